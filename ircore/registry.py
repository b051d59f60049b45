"""The npm registry's packuments: every version's publish time, tags, and what was pulled.

Step 1 asks which versions are bad and when they were out; the registry's full packument
(``GET /<name>`` with ``Accept: application/json``) answers the second half. The abbreviated
form npm itself installs from (``application/vnd.npm.install-v1+json``) has no ``time``, so it is
never asked for.

What the registry no longer lists matters as much as what it does: npm removes an unpublished
version from ``versions`` but usually keeps its ``time`` entry, and a package unpublished whole
answers with a tombstone (``time.unpublished = {time, versions}``) instead of a 404. Both become
rows with ``in_registry`` False, and so does every version an advisory names that the registry
does not list, so an analyst sees that a compromised release was pulled rather than seeing
nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import pandas as pd

from ircore._errors import InputError, InvalidVersion, SourceError
from ircore._frames import new_frame
from ircore._log import EvidenceLog
from ircore._paths import PathLike
from ircore.http import Client
from ircore.semver import Version, parse_version

__all__ = [
    "REGISTRY_URL",
    "load_versions",
    "packument_path",
    "publish_window",
    "registry_client",
]

REGISTRY_URL = "https://registry.npmjs.org"
SOURCE = "registry"
CACHE_SOURCE = "registry-cache"
FORMAT = "npm-packument"
# The full packument; the abbreviated "corgi" document lacks `time`, `_npmUser` and `scripts`.
ACCEPT = {"Accept": "application/json"}
# Keys of `time` that are about the package, not a version.
_PACKAGE_TIMES = frozenset({"created", "modified", "unpublished"})
_HOOKS = ("preinstall", "install", "postinstall")
_SHA1_HEX = re.compile(r"[0-9a-f]{40}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOTE_VERSIONS = 20  # an inputs note names this many versions, then counts the rest
# Only what could break the URL is refused: npm's own rules (lowercase, 214 characters) are
# looser for legacy names, and every character is percent-encoded anyway. A leading dot could
# make the path `/..`; whitespace and controls are never part of a name.
_NAME = re.compile(r"(?:@[^\s/.@][^\s/@]*/)?[^\s/.@][^\s/]*")


def registry_client(
    *,
    base_url: str = REGISTRY_URL,
    cache_dir: PathLike | None = None,
    offline: bool = False,
    **options: Any,
) -> Client:
    """A :class:`~ircore.http.Client` for an npm registry (``options`` go to it).

    A private registry or mirror that needs a token gets it through ``token_env`` (the name of
    the environment variable), as every source of the kit does.
    """
    headers = {**ACCEPT, **options.pop("headers", {})}
    return Client(
        base_url=base_url,
        source=SOURCE,
        headers=headers,
        cache_dir=cache_dir,
        offline=offline,
        **options,
    )


def packument_path(name: str) -> str:
    """The packument's path for ``name``: ``/chalk``, ``/@ctrl%2Ftinycolor``.

    The slash of a scoped name is percent-encoded, as the npm client sends it; registries
    answer ``/@scope/name`` differently or not at all.

    Raises
    ------
    ValueError
        If ``name`` is not something npm could have published (empty, spaces, a leading dot,
        a stray slash).
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not an npm package name")
    if name.startswith("@"):
        return "/@" + quote(name[1:], safe="")
    return "/" + quote(name, safe="")


def _wanted(packages: Iterable[str] | Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Package name to the versions an advisory names, names in first-seen order."""
    if isinstance(packages, str):
        packages = [packages]  # one name, not its characters
    wanted: dict[str, list[str]] = {}
    if isinstance(packages, Mapping):
        for name, versions in packages.items():
            if isinstance(versions, str):
                versions = [versions]
            named = wanted.setdefault(str(name), [])
            named.extend(str(v).strip() for v in versions or () if str(v).strip() not in named)
    else:
        for name in packages:
            wanted.setdefault(str(name), [])
    return wanted


def _time(value: Any) -> pd.Timestamp | None:
    """A UTC time from the registry's ISO text; None when absent, ValueError when unreadable."""
    if value is None or value == "":
        return None
    # pandas also reads words ("now", "today"): only ISO-8601 text is a registry time.
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(repr(value))
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _integrity(dist: Mapping[str, Any]) -> str | None:
    integrity = dist.get("integrity")
    if isinstance(integrity, str) and integrity:
        return integrity
    # Versions published before npm 5 carry only the SHA-1 hex `shasum`; lockfiles record the
    # same digest as `sha1-<base64>`, so give it in that form to compare with them.
    shasum = dist.get("shasum")
    if isinstance(shasum, str) and _SHA1_HEX.fullmatch(shasum.lower()):
        return "sha1-" + base64.b64encode(bytes.fromhex(shasum)).decode()
    return None


def _install_scripts(manifest: Mapping[str, Any]) -> str | None:
    scripts = manifest.get("scripts")
    scripts = scripts if isinstance(scripts, Mapping) else {}
    hooks = [h for h in _HOOKS if isinstance(scripts.get(h), str) and scripts[h].strip()]
    if manifest.get("gypfile") is True and "install" not in hooks and "preinstall" not in hooks:
        # With a binding.gyp and no install/preinstall of its own, npm runs `node-gyp rebuild`
        # as the install step: code from the tarball runs at install time all the same.
        hooks.insert(1 if hooks[:1] == ["preinstall"] else 0, "install")
    return ",".join(hooks) or None


def _text(value: Any) -> str | None:
    if value is None or value is False or value == "":
        return None
    return str(value)


def _rows(
    name: str,
    packument: Any,
    named: Sequence[str],
    *,
    source: str,
    evidence: str,
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Rows of one packument, notes for its ``inputs`` row, and versions whose time is unreadable.

    Raises :class:`InputError` (kind ``invalid``) when the answer is not a packument of ``name``.
    """
    if not isinstance(packument, Mapping):
        raise InputError("invalid", f"the answer for {name} is not a packument (not an object)")
    said = packument.get("name", packument.get("_id"))
    if said is not None and said != name:
        raise InputError(
            "invalid", f"the answer for {name} is the packument of {said!r}, not of {name!r}"
        )
    versions = packument.get("versions", {})
    times = packument.get("time", {})
    tags = packument.get("dist-tags", {})
    for field, value in (("versions", versions), ("time", times), ("dist-tags", tags)):
        if not isinstance(value, Mapping):
            raise InputError(
                "invalid", f"the packument of {name} has a '{field}' that is not an object"
            )
    tombstone = times.get("unpublished")
    tombstone = tombstone if isinstance(tombstone, Mapping) else None
    if "versions" not in packument and tombstone is None:
        raise InputError(
            "invalid",
            f"the packument of {name} lists no 'versions' and is not an unpublished package's "
            "tombstone (time.unpublished)",
        )

    # Every version the answer mentions anywhere, then those only the advisory names.
    listed = [str(v) for v in versions]
    dropped = [str(k) for k in times if k not in _PACKAGE_TIMES and k not in versions]
    gone = [str(v) for v in (tombstone or {}).get("versions") or [] if isinstance(v, str)]
    tagged: dict[str, list[str]] = {}
    for tag, target in tags.items():
        if isinstance(target, str):
            tagged.setdefault(target, []).append(str(tag))
    order = list(dict.fromkeys([*listed, *dropped, *gone, *tagged, *named]))

    rows: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for version in order:
        try:
            published = _time(times.get(version))
        except ValueError:
            published = None
            unreadable.append(version)
        manifest = versions.get(version)
        row: dict[str, Any] = {
            "name": name,
            "version": version,
            "published": published,
            "in_registry": version in versions,
            "dist_tags": ",".join(tagged.get(version, [])) or None,
            "source": source,
            "evidence": evidence,
        }
        if isinstance(manifest, Mapping):
            dist = manifest.get("dist")
            dist = dist if isinstance(dist, Mapping) else {}
            user = manifest.get("_npmUser")
            row.update(
                deprecated=_text(manifest.get("deprecated")),
                install_scripts=_install_scripts(manifest),
                publisher=_text(user.get("name")) if isinstance(user, Mapping) else None,
                tarball=_text(dist.get("tarball")),
                integrity=_integrity(dist),
            )
        rows.append(row)

    notes: list[str] = []
    if tombstone is not None:
        when = tombstone.get("time")
        notes.append(
            f"the whole package was unpublished{f' at {when}' if when else ''}; versions "
            f"listed then: {_some(gone) or 'none given'}"
        )
    pulled = [r["version"] for r in rows if not r["in_registry"]]
    if pulled:
        notes.append(f"not listed by the registry: {_some(pulled)}")
    return rows, notes, unreadable


def _some(versions: Sequence[str]) -> str:
    shown = ", ".join(versions[:_NOTE_VERSIONS])
    rest = len(versions) - _NOTE_VERSIONS
    return f"{shown} and {rest} more" if rest > 0 else shown


def _order(row: Mapping[str, Any]) -> tuple[Any, ...]:
    # Publish order, as on a time axis; versions without a time last, by name.
    published = row["published"]
    return (published is None, published if published is not None else 0, row["version"])


def _load_one(
    http: Client, name: str, named: Sequence[str], log: EvidenceLog
) -> list[dict[str, Any]]:
    also = (
        f" (the versions named for it, {', '.join(named)}, could not be checked)" if named else ""
    )
    try:
        path = packument_path(name)
    except ValueError as exc:
        log.failed(
            source=SOURCE,
            evidence=name,
            kind="invalid",
            message=f"{exc}; it was not looked up{also}",
            format=FORMAT,
        )
        return []
    url = http.redact(http.url(path))
    try:
        response, data = http.fetch("GET", path, headers=ACCEPT)
    except SourceError as exc:
        if exc.status == 404:
            kind = "not-found"
            message = (
                f"{SOURCE}: {name} is not in the registry at {http.base_url} ({exc.url} answered "
                f"HTTP 404); its versions and publish times are unknown{also}"
            )
        else:
            kind = exc.kind
            message = (
                f"{exc.message}; the versions of {name} and their publish times are unknown{also}"
            )
        log.failed(source=SOURCE, evidence=exc.url, kind=kind, message=message, format=FORMAT)
        return []

    how = response.extensions.get("ircore_cache")
    source = CACHE_SOURCE if how == "hit" else SOURCE
    try:
        rows, notes, unreadable = _rows(name, data, named, source=source, evidence=url)
    except InputError as exc:
        log.failed(
            source=source,
            evidence=url,
            kind=exc.kind,
            message=f"{exc.message}; its versions and publish times are unknown{also}",
            format=FORMAT,
            sha256=hashlib.sha256(response.content).hexdigest(),
        )
        return []
    if unreadable:
        log.problem(
            source=source,
            evidence=url,
            kind="invalid",
            message=f"the packument of {name} gives publish times that are not times for "
            f"{', '.join(unreadable)}; they are left empty",
        )
    if how == "hit":
        notes.insert(0, "read from the cache (offline): the registry was not asked")
    elif how == "revalidated":
        notes.insert(0, "the cached copy, confirmed unchanged by the registry (HTTP 304)")
    log.input(
        source=source,
        evidence=url,
        status="parsed" if rows else "empty",
        format=FORMAT,
        packages=len(rows),
        sha256=hashlib.sha256(response.content).hexdigest(),
        notes="; ".join(notes),
    )
    return sorted(rows, key=_order)


def load_versions(
    packages: Iterable[str] | Mapping[str, Sequence[str]],
    *,
    base_url: str = REGISTRY_URL,
    cache_dir: PathLike | None = None,
    offline: bool = False,
    log: EvidenceLog | None = None,
    client: Client | None = None,
) -> pd.DataFrame:
    """Read the registry's packument of each package: every version, when it was published, and
    which versions are gone.

    Parameters
    ----------
    packages
        Package names (``"chalk"``, ``"@ctrl/tinycolor"``), or a mapping of name to the
        versions an advisory names: each of those the registry does not list gets a row with
        ``in_registry`` False, which is how a pulled compromised release shows up.
    base_url
        The registry (a mirror or private registry works if it serves full packuments).
    cache_dir
        Keep each packument here and revalidate it with ``If-None-Match`` next time; a ``304``
        is served from the cache.
    offline
        Read only ``cache_dir``; a package not cached there is a problem of kind ``offline``.
    log
        Receives one ``inputs`` row per packument read (notes say what was served from the
        cache and which versions are gone) and one ``problems`` row per package that could not
        be read: kind ``not-found`` (HTTP 404), ``offline``, ``truncated``, ``http``,
        ``timeout``, ``connection``, ``rate-limited``, ``invalid-json`` or ``invalid`` (not a
        packument of that name, or not a package name). A fresh log when omitted.
    client
        A configured :class:`~ircore.http.Client` (see :func:`registry_client`) used instead of
        one built from ``base_url``, ``cache_dir`` and ``offline``; it is not closed here.

    Returns
    -------
    pandas.DataFrame
        The ``versions`` schema, one row per (package, version), in publish order per package
        (versions with no known time last): ``name``, ``version`` (string); ``published``
        (datetime64[ns, UTC], the packument's ``time[version]``, kept for unpublished versions
        when the registry kept it); ``in_registry`` (boolean: False for a version that the
        packument's ``time``, an unpublished package's tombstone, a dist-tag or the advisory
        names but ``versions`` does not list); ``dist_tags`` (comma-separated tags pointing at
        it); ``deprecated`` (the deprecation message); ``install_scripts`` (which of
        ``preinstall``, ``install``, ``postinstall`` it declares, comma-separated; ``install``
        also for a ``gypfile`` package, which npm builds with node-gyp); ``publisher``
        (``_npmUser.name``); ``tarball``; ``integrity`` (``dist.integrity``, or ``sha1-…`` from
        ``dist.shasum`` for versions that have only that); ``source`` (``registry``, or
        ``registry-cache`` when read offline); ``evidence`` (the packument URL). The manifest
        columns are NA for versions the registry no longer lists.

    Raises
    ------
    ValueError
        If ``offline`` is asked without a ``cache_dir``, or ``cache_dir``/``offline`` come with
        a ``client`` (which has its own).
    """
    if client is not None and (cache_dir is not None or offline):
        raise ValueError("cache_dir and offline belong to the client when a client is given")
    if offline and cache_dir is None:
        raise ValueError("offline=True needs a cache_dir to read packuments from")
    log = log if log is not None else EvidenceLog()
    wanted = _wanted(packages)
    own = client is None
    http = (
        client
        if client is not None
        else registry_client(base_url=base_url, cache_dir=cache_dir, offline=offline)
    )
    rows: list[dict[str, Any]] = []
    try:
        for name, named in wanted.items():
            rows.extend(_load_one(http, name, named, log))
    finally:
        if own:
            http.close()
    return new_frame("versions", rows)


def _semver(text: str) -> Version | None:
    try:
        return parse_version(text)
    except InvalidVersion:
        return None


def _when(value: Any) -> pd.Timestamp | None:
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def publish_window(
    versions: pd.DataFrame,
    name: str,
    bad_versions: Iterable[str],
    *,
    start: Any = None,
    prereleases: bool = False,
) -> dict[str, Any]:
    """Where the bad releases of ``name`` sit among its others: what to roll back or forward to.

    Parameters
    ----------
    versions
        A ``versions`` frame (from :func:`load_versions`).
    name
        The package.
    bad_versions
        Its compromised versions.
    start
        When the first bad version came out. By default the earliest publish time the frame
        knows of a bad version; give it (an incident spec's window start) when the registry
        dropped the bad versions' times. A naive time is taken as UTC.
    prereleases
        Also propose prerelease versions (by default they are skipped).

    Returns
    -------
    dict
        ``name``; ``bad`` (the bad versions, by SemVer precedence where readable); ``start``
        (a pandas Timestamp or None); ``last_bad_published`` (the latest publish time known of
        a bad version, or None); ``last_good_before`` (the highest version the registry lists,
        not bad, published before ``start``: the roll-back target) and
        ``last_good_before_published``; ``first_clean_after`` (the lowest version the registry
        lists, not bad, above every bad version the frame has, published after ``start``: the
        fix, which maintainers often publish while the bad one is still up) and
        ``first_clean_after_published``; ``not_in_registry`` (bad versions the registry no
        longer lists), ``unknown_time`` (bad versions with no publish time) and ``missing``
        (bad versions with no row at all). Versions that are not SemVer are never proposed;
        without a ``start`` nothing is.
    """
    bad = list(dict.fromkeys(str(v) for v in bad_versions))
    rows = versions[versions["name"] == name]
    by_version = {str(r["version"]): r for r in rows.to_dict("records")}
    known = {v: by_version[v] for v in bad if v in by_version}
    times = [t for t in (_when(r["published"]) for r in known.values()) if t is not None]
    begin = _when(start) if start is not None else (min(times) if times else None)
    # Versions no row knows (a typo, another registry's) are reported, not used as a bound.
    bad_semver = [s for s in (_semver(v) for v in known) if s is not None]
    highest_bad = max(bad_semver) if bad_semver else None

    candidates: list[tuple[Version, str, pd.Timestamp]] = []
    for version, row in by_version.items():
        parsed = _semver(version)
        published = _when(row["published"])
        if version in bad or parsed is None or published is None or row["in_registry"] is not True:
            continue
        if parsed.prerelease and not prereleases:
            continue
        candidates.append((parsed, version, published))
    before = [c for c in candidates if begin is not None and c[2] < begin]
    after = [
        c
        for c in candidates
        if begin is not None and c[2] > begin and (highest_bad is None or c[0] > highest_bad)
    ]
    last = max(before) if before else None
    first = min(after) if after else None

    def precedence(version: str) -> tuple[Any, ...]:
        parsed = _semver(version)
        return (0, parsed, version) if parsed is not None else (1, Version(0, 0, 0), version)

    return {
        "name": name,
        "bad": sorted(bad, key=precedence),
        "start": begin,
        "last_bad_published": max(times) if times else None,
        "last_good_before": last[1] if last else None,
        "last_good_before_published": last[2] if last else None,
        "first_clean_after": first[1] if first else None,
        "first_clean_after_published": first[2] if first else None,
        "not_in_registry": [v for v in bad if v in known and known[v]["in_registry"] is False],
        "unknown_time": [v for v in bad if v in known and _when(known[v]["published"]) is None],
        "missing": [v for v in bad if v not in known],
    }
