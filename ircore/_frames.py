"""The columns and dtypes of every evidence frame, in one place.

Loaders build frames with :func:`new_frame` / :func:`conform` and tests assert them with
:func:`validate`. Times are tz-aware UTC; booleans that a source may not state are nullable
(``pd.NA`` means "the input does not say").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ircore._errors import SchemaError

STRING = "string"
BOOL = "boolean"
INT = "Int64"
TIME = "datetime64[ns, UTC]"

ADVISORIES: dict[str, str] = {
    "advisory_id": STRING,  # MAL-…, GHSA-…, or list:<file> for published lists
    "record_id": STRING,  # the source's own id for this row (kept when aliases are merged)
    "aliases": STRING,  # other ids of the same advisory, comma-separated
    "ecosystem": STRING,
    "package": STRING,
    "spec_kind": STRING,  # "exact" | "osv_events" | "npm_range"
    "spec": STRING,  # a version, a JSON list of OSV events, or an npm range
    "role": STRING,  # "affected": the record's own claim, used for matching; "origin": a feed's claim, shown only
    "origin": STRING,  # who claims it (OSV origin feed, list name, ...)
    "classification": STRING,  # "malware" | "vulnerability"
    "severity": STRING,  # source's severity; empty for malware records, which have none
    "summary": STRING,
    "published": TIME,
    "modified": TIME,
    "withdrawn": TIME,  # GHSA withdrawn_at; NA while the advisory stands
    "url": STRING,  # where a person reads the advisory (osv.dev, github.com/advisories, Threat Center)
    "source": STRING,  # loader: osv-dir, osv-zip, osv-api, ghsa, threat-center, list, incident
    "evidence": STRING,  # file path (zip members as archive.zip!member) or API URL
}

IOCS: dict[str, str] = {
    # One indicator of compromise, from an advisory or the analyst.
    "ioc_id": STRING,  # stable hash of (ioc_type, value)
    "advisory_id": STRING,
    # domain | ip | url | sha256 | sha1 | md5 | integrity | tlsh | hash | file_name | process |
    # repository | package_version | wallet | email | reference (a source, not an indicator) | other
    "ioc_type": STRING,
    "value": STRING,  # normalised: re-fanged, hosts lower-cased
    "port": INT,
    "context": STRING,  # the sentence or field it was found in
    "confidence": STRING,  # structured | extracted | analyst
    "source": STRING,
    "evidence": STRING,
}

VERSIONS: dict[str, str] = {
    # One (package, version) as the npm registry knows it, or as an advisory names it.
    "name": STRING,
    "version": STRING,
    "published": TIME,  # the packument's time[version]
    "in_registry": BOOL,  # False: an advisory names it but the registry no longer lists it
    "dist_tags": STRING,  # comma-separated tags pointing at it (latest, next, ...)
    "deprecated": STRING,
    "install_scripts": STRING,  # preinstall/install/postinstall it declares, comma-separated
    "publisher": STRING,  # _npmUser.name
    "tarball": STRING,
    "integrity": STRING,
    "source": STRING,  # registry | registry-cache
    "evidence": STRING,  # packument URL or cache path
}

INVENTORY: dict[str, str] = {
    "name": STRING,  # real registry name, never an alias or install folder
    "version": STRING,  # resolved version verbatim
    "dev": BOOL,  # reachable only through devDependencies; NA when the input does not say
    "optional": BOOL,
    "direct": BOOL,  # declared by the root manifest or any workspace
    "bundled": BOOL,  # shipped inside its parent's tarball
    "introducer": STRING,  # the direct dependency that pulls it in (itself when direct)
    "dependency_path": STRING,  # "introducer > … > name"
    "install_path": STRING,  # where the lockfile puts it (node_modules/a/node_modules/b)
    "alias": STRING,  # the install name when it differs from the real name
    "resolved": STRING,
    "origin_kind": STRING,  # registry | git | tarball | file
    "lockfile_format": STRING,  # npm-lock-v3, npm-shrinkwrap-v2, pnpm-v9.0, bun-lock-v1, …
    "file": STRING,  # path of the lockfile inside its repo
    "repo": STRING,
    "ref": STRING,  # branch, PR ref or commit; empty for a plain folder
    # default_branch | branch | pull_request | workflow_run | folder | host
    "surface": STRING,
    "host": STRING,  # developer machine (surface host); empty elsewhere
    "user": STRING,  # the machine's user, when the source names one
    "first_seen": TIME,  # when the source first saw it (cache entry time, MDM first_seen_at)
    "last_seen": TIME,
    "source": STRING,  # folder | git | github | github-sbom | stepsecurity | stepsecurity-mdm | host-scan | dev-machine-guard
    "evidence": STRING,  # absolute path, git object or URL the row was read from
}

DECLARED: dict[str, str] = {
    # A dependency as a manifest or lockfile declares it: a range, not a resolved version.
    "name": STRING,  # real registry name (alias targets resolved)
    "spec": STRING,  # the declared range verbatim (^1.2.0, npm:real@^1, workspace:*, git URL, ...)
    "spec_kind": STRING,  # range | tag | git | tarball | file | link | workspace | alias
    "declared_by": STRING,  # the declaring package, or the workspace manifest's name/path
    "field": STRING,  # dependencies | devDependencies | optionalDependencies | peerDependencies | overrides | resolutions | pnpm.overrides | lockfile
    "direct": BOOL,  # declared by the root manifest or a workspace manifest
    "file": STRING,
    "repo": STRING,
    "ref": STRING,
    "surface": STRING,
    "host": STRING,
    "source": STRING,
    "evidence": STRING,
}

EXPOSURE: dict[str, str] = {
    **{k: INVENTORY[k] for k in ("repo", "ref", "surface", "host", "file", "name", "version")},
    **{k: INVENTORY[k] for k in ("dev", "direct", "introducer", "dependency_path", "origin_kind")},
    "advisory_id": STRING,
    "aliases": STRING,
    "classification": STRING,
    "claims": STRING,  # the specs that matched, with who claims them
    "origins": STRING,
    "source": STRING,  # the inventory source that saw the occurrence
    "evidence": STRING,
}

PROBLEMS: dict[str, str] = {
    "source": STRING,
    "evidence": STRING,  # path or URL that could not be read
    "kind": STRING,  # unreadable | not-json | truncated | unsupported | invalid | http
    "message": STRING,
    "repo": STRING,
    "ref": STRING,
    "host": STRING,  # the developer machine, for inputs read on one
}

INPUTS: dict[str, str] = {
    "source": STRING,
    "evidence": STRING,
    "repo": STRING,
    "ref": STRING,
    "host": STRING,
    "file": STRING,
    "format": STRING,
    "status": STRING,  # parsed | empty | failed
    "packages": INT,
    "sha256": STRING,
    "notes": STRING,  # what was read only in part (e.g. direct flags unknown without package.json)
}

SCHEMAS: dict[str, dict[str, str]] = {
    "advisories": ADVISORIES,
    "inventory": INVENTORY,
    "declared": DECLARED,
    "iocs": IOCS,
    "versions": VERSIONS,
    "exposure": EXPOSURE,
    "problems": PROBLEMS,
    "inputs": INPUTS,
}


def _schema(name_or_schema: str | Mapping[str, str]) -> Mapping[str, str]:
    if isinstance(name_or_schema, str):
        try:
            return SCHEMAS[name_or_schema]
        except KeyError:
            raise SchemaError(f"unknown frame {name_or_schema!r}") from None
    return name_or_schema


def new_frame(
    schema: str | Mapping[str, str], rows: Iterable[Mapping[Any, Any]] = ()
) -> pd.DataFrame:
    """Build a frame of ``schema`` from dict rows; missing keys become NA, extra keys raise."""
    columns = _schema(schema)
    records = list(rows)
    for row in records:
        extra = set(row) - set(columns)
        if extra:
            raise SchemaError(f"unknown columns {sorted(extra)} for schema")
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    return conform(frame, columns)


def conform(frame: pd.DataFrame, schema: str | Mapping[str, str]) -> pd.DataFrame:
    """Cast ``frame`` to ``schema``: columns in order, dtypes exact, missing columns as NA."""
    columns = _schema(schema)
    out = frame.reindex(columns=list(columns)).copy()
    for column, dtype in columns.items():
        if dtype == TIME:
            stamps = pd.to_datetime(out[column], utc=True, errors="coerce", format="mixed")
            out[column] = stamps.astype(pd.DatetimeTZDtype("ns", "UTC"))
        else:
            out[column] = out[column].astype(pd.api.types.pandas_dtype(dtype))
    return out.reset_index(drop=True)


def validate(frame: pd.DataFrame, schema: str | Mapping[str, str]) -> pd.DataFrame:
    """Raise :class:`SchemaError` unless ``frame`` has exactly the columns and dtypes of ``schema``."""
    columns = _schema(schema)
    if list(frame.columns) != list(columns):
        raise SchemaError(f"columns {list(frame.columns)} != expected {list(columns)}")
    wrong = {c: str(frame[c].dtype) for c, d in columns.items() if str(frame[c].dtype) != d}
    if wrong:
        raise SchemaError(f"wrong dtypes {wrong}; expected {dict(columns)}")
    return frame
