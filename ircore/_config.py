"""Incident spec and sources config files (YAML, read safely with YAML 1.2 rules)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ircore._errors import ConfigError
from ircore._investigation import Incident

# Secrets come from the environment only: papermill writes parameters into the shared notebook.
_SECRET_KEY = re.compile(r"(token|secret|password|api[_-]?key|credential)", re.IGNORECASE)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path} could not be read ({exc.strerror or exc})") from None
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys, not {type(data).__name__}")
    secrets = [k for k in _walk_keys(data) if _SECRET_KEY.search(k) and not k.endswith("_env")]
    if secrets:
        raise ConfigError(
            f"{path} holds {secrets}: secrets are read from environment variables only; "
            "name the variable instead (e.g. token_env: GITHUB_TOKEN)"
        )
    return data


def _walk_keys(data: Any) -> list[str]:
    """Every mapping key in the document, visiting each node once (aliases share nodes)."""
    keys: list[str] = []
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
    return keys


def _strings(value: Any, *, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | int | float):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    raise ConfigError(f"{what} must be a string or a list of strings")


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
    ``end``; UTC when no zone is given).
    """
    data = _load_yaml(Path(path))
    unknown = set(data) - {"name", "summary", "packages", "advisories", "window"}
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
    )
    if not incident.packages and not incident.advisories:
        raise ConfigError(f"{path}: name the compromised 'packages' or the 'advisories' to use")
    return incident


@dataclass(frozen=True)
class Sources:
    """Where the evidence is: paths resolved against the sources file's folder."""

    advisories: list[Path] = field(default_factory=list)
    repos: list[Path] = field(default_factory=list)
    git_refs: bool = True
    file: Path | None = None

    def paths(self) -> list[Path]:
        return [*self.advisories, *self.repos]


def load_sources(path: str | Path) -> Sources:
    """Read a sources config: ``advisories`` (paths), ``repos`` (paths), ``git_refs`` (bool).

    Relative paths are taken from the config file's folder, so a config travels with its data.
    """
    file = Path(path)
    data = _load_yaml(file)
    unknown = set(data) - {"advisories", "repos", "git_refs"}
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}")
    base = file.resolve().parent

    def resolve(key: str) -> list[Path]:
        return [(base / p).resolve() for p in _strings(data.get(key), what=key)]

    git_refs = data.get("git_refs", True)
    if not isinstance(git_refs, bool):
        raise ConfigError(f"{path}: 'git_refs' must be true or false")
    sources = Sources(resolve("advisories"), resolve("repos"), git_refs, file.resolve())
    if not sources.repos:
        raise ConfigError(f"{path}: list at least one path under 'repos'")
    return sources
