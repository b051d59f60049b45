"""Incident spec and sources config files (YAML, read safely with YAML 1.2 rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ircore._errors import ConfigError, InvalidRange, InvalidVersion
from ircore._investigation import Incident
from ircore.semver import normalize_advisory_range, parse_version, range_can_match

# Secrets come from the environment only: papermill writes parameters into the shared notebook.
_SECRET_KEY = re.compile(r"(token|secret|password|api[_-]?key|credential)", re.IGNORECASE)
_TOKEN_VALUE = re.compile(
    r"(ghp_|gho_|ghs_|ghu_|ghr_|github_pat_)[A-Za-z0-9_]{20,}|npm_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16}"
)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path} could not be read ({exc.strerror or exc})") from None
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    except ValueError as exc:  # e.g. an unquoted impossible date such as 2025-13-45
        raise ConfigError(f"{path} holds a value that cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys, not {type(data).__name__}")
    keys, values = _walk(data)
    # "token_env: GITHUB_TOKEN" names a variable, checked in _section; any other secret-ish key is refused
    secrets = [k for k in keys if _SECRET_KEY.search(k) and not k.endswith("_env")]
    if secrets:
        raise ConfigError(
            f"{path} holds {secrets}: secrets are read from environment variables only "
            "(GITHUB_TOKEN, STEPSECURITY_API_KEY), never from files that travel with a report"
        )
    if any(_TOKEN_VALUE.search(v) for v in values):
        raise ConfigError(
            f"{path} holds a value that looks like a token (GitHub, npm or AWS key): it would be "
            "published with the report; set it as an environment variable instead"
        )
    return data


def _walk(data: Any) -> tuple[list[str], list[str]]:
    """Every mapping key and every string value, visiting each node once (aliases share nodes)."""
    keys: list[str] = []
    values: list[str] = []
    seen: set[int] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            keys.extend(str(k) for k in node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            values.append(node)
    return keys, values


def _strings(value: Any, *, what: str) -> list[str]:
    # Numbers are refused, not converted: YAML reads 1.30 as the float 1.3, which would
    # silently become the range "1.3" (every 1.3.x).
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(
        f"{what} must be a string or a list of strings; quote versions ('1.30', not 1.30)"
    )


def _stamp(value: Any, *, what: str) -> pd.Timestamp | None:
    if value in (None, ""):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(f"{what} is not a date/time: {value!r}") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def load_incident(path: str | Path) -> Incident:
    """Read an incident spec.

    Keys: ``name`` (required), ``summary``, ``packages`` (name -> version, list of versions, or
    npm range), ``advisories`` (ids such as MAL-2025-46969 or GHSA-…), ``window`` (``start``,
    ``end``; UTC when no zone is given), ``indicators`` (``"domain:evil.example"``, a bare
    URL/hash/file name, or ``{type, value}`` mappings).
    """
    data = _load_yaml(Path(path))
    unknown = set(data) - {"name", "summary", "packages", "advisories", "window", "indicators"}
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}")
    if not data.get("name"):
        raise ConfigError(f"{path}: 'name' is required")
    packages = data.get("packages") or {}
    if not isinstance(packages, dict):
        raise ConfigError(f"{path}: 'packages' must map package names to versions")
    window = data.get("window") or {}
    if not isinstance(window, dict):
        raise ConfigError(f"{path}: 'window' must have 'start' and/or 'end'")
    incident = Incident(
        name=str(data["name"]),
        summary=str(data.get("summary") or ""),
        packages={str(k): _strings(v, what=f"packages.{k}") for k, v in packages.items()},
        advisories=_strings(data.get("advisories"), what="advisories"),
        window_start=_stamp(window.get("start"), what="window.start"),
        window_end=_stamp(window.get("end"), what="window.end"),
        indicators=_indicators(data.get("indicators"), path=path),
    )
    if not incident.packages and not incident.advisories:
        raise ConfigError(f"{path}: name the compromised 'packages' or the 'advisories' to use")
    if (
        incident.window_start
        and incident.window_end
        and incident.window_start > incident.window_end
    ):
        raise ConfigError(f"{path}: window.start is after window.end")
    for package, specs in incident.packages.items():
        if not specs:
            raise ConfigError(f"{path}: packages.{package} lists no version or range")
        for spec in specs:
            _check_claim(spec, where=f"{path}: packages.{package}")
    return incident


def _indicators(value: Any, *, path: str | Path) -> list[Any]:
    """The analyst's indicators, each checked now so a typo is an error, not a missed match."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{path}: 'indicators' must be a list")
    from ircore.threats._iocs import analyst_iocs  # the indicator rules live with the extractor

    try:
        analyst_iocs(value, advisory_id="incident")
    except ConfigError as exc:
        raise ConfigError(f"{path}: indicators: {exc}") from None
    return value


def _check_claim(spec: str, *, where: str) -> None:
    """Refuse a claim that would quietly match nothing: an invalid or unsatisfiable range."""
    words = [w for w in re.split(r"[\s,]+", spec) if w]
    if len(words) > 1 and all(_is_version(w) for w in words):
        raise ConfigError(
            f"{where}: {spec!r} reads as one range that every version must satisfy at once, "
            f"which none can; list several versions as a YAML list: [{', '.join(words)}]"
        )
    try:
        normalised = normalize_advisory_range(spec)
    except InvalidRange as exc:
        raise ConfigError(f"{where}: {spec!r} is not a version or an npm range ({exc})") from None
    if not range_can_match(normalised):
        raise ConfigError(f"{where}: no version can satisfy {spec!r}; check the bounds")


def _is_version(word: str) -> bool:
    try:
        parse_version(word.lstrip("=v"))
    except InvalidVersion:
        return False
    return True


_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class GitHubSource:
    """An organization read through the GitHub API; the token comes from ``token_env``."""

    org: str
    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"
    repos: list[str] = field(default_factory=list)  # empty: every repository of the org
    pull_requests: bool = True
    sbom: bool = True


@dataclass(frozen=True)
class StepSecuritySource:
    """StepSecurity NPM Package Search (``owner``) and Developer MDM search (``customer``)."""

    owner: str = ""
    customer: str = ""
    api_url: str = "https://agent.api.stepsecurity.io/v1"
    key_env: str = "STEPSECURITY_API_KEY"


@dataclass(frozen=True)
class AdvisoryAPIs:
    """Live advisory sources: OSV.dev, GitHub's advisory database, StepSecurity Threat Center."""

    osv: bool = False
    osv_url: str = "https://api.osv.dev"
    github: bool = False
    github_url: str = "https://api.github.com"
    github_token_env: str = "GITHUB_TOKEN"
    threat_center: bool = False  # uses stepsecurity.owner and key_env


@dataclass(frozen=True)
class RegistrySource:
    """The npm registry, for publish times and unpublished versions of the affected packages."""

    url: str = "https://registry.npmjs.org"
    cache: Path | None = None
    offline: bool = False


@dataclass(frozen=True)
class Sources:
    """Where the evidence is: paths resolved against the sources file's folder."""

    advisories: list[Path] = field(default_factory=list)
    repos: list[Path] = field(default_factory=list)
    git_refs: bool = True
    file: Path | None = None
    hosts: list[Path] = field(default_factory=list)
    github: GitHubSource | None = None
    stepsecurity: StepSecuritySource | None = None
    advisory_apis: AdvisoryAPIs = field(default_factory=AdvisoryAPIs)
    registry: RegistrySource | None = None
    # exports of live sources, read from files: GitHub advisory JSON, Threat Center S3/webhook
    ghsa_files: list[Path] = field(default_factory=list)
    threat_center_exports: list[Path] = field(default_factory=list)

    def paths(self) -> list[Path]:
        return [
            *self.advisories,
            *self.ghsa_files,
            *self.threat_center_exports,
            *self.repos,
            *self.hosts,
        ]


def _section(data: Any, *, path: Path, what: str, allowed: dict[str, type]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: '{what}' must be a mapping of keys")
    unknown = set(data) - set(allowed)
    if unknown:
        raise ConfigError(f"{path}: unknown keys under '{what}': {sorted(unknown)}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        kind = allowed[key]
        if kind is list:
            out[key] = _strings(value, what=f"{what}.{key}")
        elif not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
            raise ConfigError(f"{path}: '{what}.{key}' must be a {kind.__name__}")
        else:
            out[key] = value
        if key.endswith("_env") and not _ENV_NAME.match(str(value)):
            raise ConfigError(
                f"{path}: '{what}.{key}' names an environment variable (like GITHUB_TOKEN); "
                "the secret itself never goes in this file"
            )
    return out


def load_sources(path: str | Path) -> Sources:
    """Read a sources config.

    Keys: ``advisories`` (paths), ``repos`` (paths: lockfiles, projects, git clones),
    ``git_refs`` (bool), ``hosts`` (paths: ``ircore scan-host`` files and Dev Machine Guard
    exports), ``github`` (``org``, optional ``api_url``, ``token_env``, ``repos``,
    ``pull_requests``, ``sbom``) and ``stepsecurity`` (``owner`` and/or ``customer``, optional
    ``api_url``, ``key_env``). Relative paths are taken from the config file's folder, so a config
    travels with its data. Secrets never appear here: ``*_env`` keys name the environment
    variables that hold them. ``advisory_apis`` (``osv``, ``github``, ``threat_center`` booleans,
    optional ``osv_url``, ``github_url``, ``github_token_env``) asks live advisory sources about
    the packages found; ``registry`` (optional ``url``, ``cache`` folder, ``offline``) reads the
    npm registry's facts about the affected packages. ``ghsa_files`` (GitHub advisory JSON as the
    REST API returns it) and ``threat_center_exports`` (Threat Center records from S3 or a
    webhook) are paths, read like ``advisories``.
    """
    file = Path(path)
    data = _load_yaml(file)
    unknown = set(data) - {
        "advisories",
        "repos",
        "git_refs",
        "hosts",
        "github",
        "stepsecurity",
        "advisory_apis",
        "registry",
        "ghsa_files",
        "threat_center_exports",
    }
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}")
    base = file.resolve().parent

    def resolve(key: str) -> list[Path]:
        return [(base / p).resolve() for p in _strings(data.get(key), what=key)]

    git_refs = data.get("git_refs", True)
    if not isinstance(git_refs, bool):
        raise ConfigError(f"{path}: 'git_refs' must be true or false")
    github = None
    if data.get("github") is not None:
        fields = _section(
            data["github"],
            path=file,
            what="github",
            allowed={
                "org": str,
                "api_url": str,
                "token_env": str,
                "repos": list,
                "pull_requests": bool,
                "sbom": bool,
            },
        )
        if "org" not in fields:
            raise ConfigError(f"{path}: 'github' needs 'org' (the organization to read)")
        github = GitHubSource(**fields)
    stepsecurity = None
    if data.get("stepsecurity") is not None:
        fields = _section(
            data["stepsecurity"],
            path=file,
            what="stepsecurity",
            allowed={"owner": str, "customer": str, "api_url": str, "key_env": str},
        )
        if not (fields.get("owner") or fields.get("customer")):
            raise ConfigError(
                f"{path}: 'stepsecurity' needs 'owner' (GitHub org, for NPM Package Search) "
                "and/or 'customer' (tenant, for Developer MDM search)"
            )
        stepsecurity = StepSecuritySource(**fields)
    apis = AdvisoryAPIs()
    if data.get("advisory_apis") is not None:
        fields = _section(
            data["advisory_apis"],
            path=file,
            what="advisory_apis",
            allowed={
                "osv": bool,
                "osv_url": str,
                "github": bool,
                "github_url": str,
                "github_token_env": str,
                "threat_center": bool,
            },
        )
        apis = AdvisoryAPIs(**fields)
        if apis.threat_center and not (stepsecurity and stepsecurity.owner):
            raise ConfigError(
                f"{path}: advisory_apis.threat_center needs 'stepsecurity: {{owner: <org>}}'"
            )
    registry = None
    if data.get("registry") is not None:
        fields = _section(
            data["registry"],
            path=file,
            what="registry",
            allowed={"url": str, "cache": str, "offline": bool},
        )
        cache = (base / fields.pop("cache")).resolve() if "cache" in fields else None
        registry = RegistrySource(**fields, cache=cache)
        if registry.offline and registry.cache is None:
            raise ConfigError(f"{path}: registry.offline needs registry.cache to read from")
    sources = Sources(
        advisories=resolve("advisories"),
        repos=resolve("repos"),
        git_refs=git_refs,
        file=file.resolve(),
        hosts=resolve("hosts"),
        github=github,
        stepsecurity=stepsecurity,
        advisory_apis=apis,
        registry=registry,
        ghsa_files=resolve("ghsa_files"),
        threat_center_exports=resolve("threat_center_exports"),
    )
    if not (sources.repos or sources.hosts or github or stepsecurity):
        raise ConfigError(
            f"{path}: name at least one place to look: 'repos', 'hosts', 'github' or 'stepsecurity'"
        )
    return sources
