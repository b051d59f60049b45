"""Developer machine scans into the ``inventory`` frame: ircore host scans and Dev Machine Guard.

Two kinds of JSON file are read, told apart by their content, never by their name:

* an ircore host scan (``"format": "ircore-host-scan"``, written by ``ircore scan-host``; see
  :mod:`ircore.inventory._host`). Its rows are taken as they are; the inputs and problems the
  scan met on the machine are carried into the log, their ``evidence`` prefixed with
  ``<hostname>:`` because the path is one on that machine.
* a StepSecurity Dev Machine Guard export (``stepsecurity-dev-machine-guard --json``): a
  ``device`` object and ``node_projects``, in the community form ``{path, package_manager,
  packages[{name, version}]}`` or the enterprise form ``{project_path, package_manager,
  packages[{name, version, is_direct}], error, exit_code, ...}``; ``node_packages`` holds the
  global installs in the enterprise form. A project the scanner could not list (``error`` or a
  non-zero ``exit_code``) is a problem.

  A file with neither projects nor global packages is read as ``empty`` **and** recorded as a
  problem of kind ``partial``: the community scanner lists npm projects only when run with
  ``--enable-npm-scan``, so an empty list usually means "not looked at", not "nothing there".
  The problem keeps the investigation from calling that machine clean (a report says "not
  affected" only when no input has a problem) while the input row shows the file itself was
  read in full.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ircore._decode import decode_text, load_json
from ircore._errors import InputError
from ircore._frames import BOOL, INVENTORY, STRING, TIME, new_frame
from ircore._log import EvidenceLog
from ircore._paths import PathLike, as_paths, sha256
from ircore.inventory._host import FORMAT, FORMAT_VERSION

__all__ = ["load_hosts"]

HOST_SCAN = "host-scan"
# What JSON gives for each column type of the inventory schema (times are ISO strings).
_JSON_TYPES: dict[str, type] = {STRING: str, BOOL: bool, TIME: str}
DMG = "dev-machine-guard"
_PROBLEM_KEYS = ("source", "evidence", "kind", "message", "repo", "ref", "host")
_INPUT_KEYS = (
    "source",
    "evidence",
    "status",
    "repo",
    "ref",
    "file",
    "format",
    "packages",
    "sha256",
    "notes",
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _typed(value: object, dtype: str) -> bool:
    """Whether a JSON value fits a column: a string, a boolean, or an ISO time string."""
    if not isinstance(value, _JSON_TYPES[dtype]):
        return False
    if dtype == TIME:
        return not pd.isna(pd.to_datetime(str(value), utc=True, errors="coerce"))
    return True


def _json_files(folder: Path, log: EvidenceLog) -> list[Path]:
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        log.failed(
            source="hosts",
            evidence=str(exc.filename),
            kind="unreadable",
            message=f"folder {exc.filename} could not be listed ({exc.strerror or exc}); the "
            "host scans in it were not read",
        )

    for here, dirs, files in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(here) / f for f in sorted(files) if f.lower().endswith(".json"))
    if not found:
        log.problem(
            source="hosts",
            evidence=str(folder),
            kind="missing",
            message=f"{folder} holds no .json file: no host scan or Dev Machine Guard export "
            "was read from it",
        )
    return found


def _read_host_scan(
    data: dict[str, Any], path: Path, digest: str, log: EvidenceLog
) -> list[dict[str, Any]]:
    failed = {"source": HOST_SCAN, "evidence": str(path), "format": FORMAT, "sha256": digest}
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        log.failed(
            kind="unsupported",
            message=f"{path} is an ircore host scan of format version {version!r}; this "
            f"version of ircore reads version {FORMAT_VERSION} (a newer ircore wrote it?)",
            **failed,
        )
        return []
    header = data.get("host")
    header = header if isinstance(header, dict) else {}
    hostname, user = _text(header.get("hostname")), _text(header.get("user"))
    records = data.get("inventory")
    if not isinstance(records, list):
        log.failed(kind="invalid", message=f"{path} has no inventory list", **failed)
        return []
    rows: list[dict[str, Any]] = []
    invalid = 0
    extra: set[str] = set()
    mistyped: set[str] = set()
    for record in records:
        if (
            not isinstance(record, dict)
            or not _text(record.get("name"))
            or not _text(record.get("version"))
        ):
            invalid += 1
            continue
        extra.update(k for k in record if k not in INVENTORY)
        row: dict[str, Any] = {}
        for key, value in record.items():
            if key not in INVENTORY:
                continue
            if value is not None and not _typed(value, INVENTORY[key]):
                mistyped.add(key)  # a hand-edited file: the value is dropped, not guessed at
                value = None
            row[key] = value
        row.update(surface="host", source=HOST_SCAN)
        row["host"] = row.get("host") or hostname
        row["user"] = row.get("user") or user
        rows.append(row)
    if invalid:
        log.problem(
            source=HOST_SCAN,
            evidence=str(path),
            kind="invalid",
            message=f"{invalid} inventory rows of {path} name no package and version; they were "
            "not read",
        )
    if mistyped:
        log.problem(
            source=HOST_SCAN,
            evidence=str(path),
            kind="invalid",
            message=f"{path} has values of the wrong type in columns {', '.join(sorted(mistyped))}"
            "; they were read as unknown",
        )
    prefix = f"{hostname}:" if hostname else ""
    for problem in data.get("problems") or []:
        if isinstance(problem, dict):
            fields = {k: _text(problem.get(k)) for k in _PROBLEM_KEYS}
            fields["evidence"] = prefix + fields["evidence"]
            fields["host"] = fields.get("host") or hostname
            log.problem(**fields)
    for item in data.get("inputs") or []:
        if isinstance(item, dict):
            packages = item.get("packages")
            fields = {k: _text(item.get(k)) for k in _INPUT_KEYS if k != "packages"}
            fields["evidence"] = prefix + fields["evidence"]
            fields["host"] = fields.get("host") or hostname
            log.input(**fields, packages=packages if isinstance(packages, int) else None)
    notes = [f"host {hostname or '?'} scanned at {_text(data.get('scanned_at')) or '?'}"]
    if extra:
        notes.append(f"columns this version does not know, left out: {', '.join(sorted(extra))}")
    log.input(
        status="parsed" if rows else "empty",
        packages=len(rows),
        notes="; ".join(notes),
        **failed,
    )
    return rows


def _scan_time(data: dict[str, Any]) -> pd.Timestamp | None:
    stamp = data.get("scan_timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
        return pd.Timestamp(dt.datetime.fromtimestamp(stamp, tz=dt.timezone.utc))
    iso = _text(data.get("scan_timestamp_iso"))
    parsed = pd.to_datetime(iso, utc=True, errors="coerce") if iso else None
    return None if parsed is None or pd.isna(parsed) else parsed


def _dmg_packages(
    packages: Any,
    *,
    where: str,
    base: dict[str, Any],
    enterprise: bool,
    log: EvidenceLog,
) -> list[dict[str, Any]]:
    rows, invalid = [], 0
    for package in packages if isinstance(packages, list) else []:
        name = _text(package.get("name")) if isinstance(package, dict) else ""
        version = _text(package.get("version")) if isinstance(package, dict) else ""
        if not name or not version:
            invalid += 1
            continue
        # The enterprise form omits is_direct when false (Go's omitempty); the community form
        # never says.
        direct = package.get("is_direct") is True if enterprise else None
        rows.append({**base, "name": name, "version": version, "direct": direct})
    if invalid:
        log.problem(
            source=DMG,
            evidence=where,
            kind="invalid",
            message=f"{invalid} packages at {where} name no package and version; not read",
        )
    return rows


def _dmg_project(
    project: dict[str, Any],
    *,
    where: str,
    base: dict[str, Any],
    log: EvidenceLog,
    glob: bool,
    unlisted: list[str],
) -> list[dict[str, Any]]:
    """Rows of one project (or global root); one listed without packages joins ``unlisted``."""
    enterprise = "project_path" in project or "exit_code" in project
    place = _text(project.get("project_path")) or _text(project.get("path"))
    manager = _text(project.get("package_manager")) or "unknown"
    error, code = _text(project.get("error")), project.get("exit_code")
    packages = project.get("packages")
    label = f"the global {manager} packages" if glob else f"project {place or '?'}"
    if error or (isinstance(code, int) and code != 0):
        log.problem(
            source=DMG,
            evidence=where,
            kind="scan-error",
            message=f"Dev Machine Guard could not list {label} ({manager} exit code {code}: "
            f"{error or 'no message'}); what it holds may be missing",
        )
    elif not packages and _text(project.get("raw_stdout_base64")):
        log.problem(
            source=DMG,
            evidence=where,
            kind="unsupported",
            message=f"{label} lists its packages only as raw `{manager}` output "
            "(raw_stdout_base64), which ircore does not read",
        )
    elif not packages:
        unlisted.append(place or where)
    fmt = f"dmg-global-{manager}" if glob else f"dmg-{manager}"
    repo = f"(global {manager})" if glob else place
    fields = {**base, "repo": repo, "lockfile_format": fmt, "evidence": where}
    return _dmg_packages(packages, where=where, base=fields, enterprise=enterprise, log=log)


def _read_dmg(
    data: dict[str, Any], path: Path, digest: str, log: EvidenceLog
) -> list[dict[str, Any]]:
    device = data["device"]
    hostname, user = _text(device.get("hostname")), _text(device.get("user_identity"))
    seen = _scan_time(data)
    base = {"surface": "host", "host": hostname, "user": user, "last_seen": seen, "source": DMG}
    rows: list[dict[str, Any]] = []
    unlisted: list[str] = []
    projects = data.get("node_projects") or []
    globals_ = data.get("node_packages") or []
    for field, items in (("node_projects", projects), ("node_packages", globals_)):
        if not isinstance(items, list):
            log.problem(
                source=DMG,
                evidence=f"{path}#/{field}",
                kind="invalid",
                message=f"{field} in {path} is not a list; it was not read",
            )
            continue
        for number, item in enumerate(items):
            where = f"{path}#/{field}/{number}"
            if not isinstance(item, dict):
                log.problem(
                    source=DMG,
                    evidence=where,
                    kind="invalid",
                    message=f"{where} is not an object",
                )
            elif field == "node_packages" and "packages" not in item and "name" in item:
                # A global package listed on its own.
                fields = {**base, "repo": "(global)", "lockfile_format": "dmg-global"}
                rows.extend(
                    _dmg_packages([item], where=where, base=fields, enterprise=True, log=log)
                )
            else:
                rows.extend(
                    _dmg_project(
                        item,
                        where=where,
                        base=base,
                        log=log,
                        glob=field == "node_packages",
                        unlisted=unlisted,
                    )
                )
    agent = _text(data.get("agent_version")) or "?"
    notes = [f"device {hostname or '?'}, user {user or '?'}, agent {agent}"]
    if unlisted:
        # The scanner found the project but did not list what it holds (npm scanning off).
        log.problem(
            source=DMG,
            evidence=str(path),
            kind="partial",
            message=f"{len(unlisted)} projects are listed without their packages, which are "
            f"unknown (Dev Machine Guard run without --enable-npm-scan?): {', '.join(unlisted)}",
        )
    if not projects and not globals_:
        message = (
            "node_projects and node_packages are empty: Dev Machine Guard lists npm packages "
            "only with --enable-npm-scan (off by default in community mode), so this is not "
            "proof that the machine has none"
        )
        notes.append(message)
        log.problem(source=DMG, evidence=str(path), kind="partial", message=message)
    log.input(
        source=DMG,
        evidence=str(path),
        status="parsed" if rows else "empty",
        format="dev-machine-guard-json",
        packages=len(rows),
        sha256=digest,
        notes="; ".join(notes),
    )
    return rows


def _read_file(path: Path, log: EvidenceLog) -> list[dict[str, Any]]:
    data = log.read(path, source="hosts")
    if data is None:
        return []
    digest = sha256(data)
    try:
        document = load_json(decode_text(data, what=str(path)), what=str(path))
    except InputError as exc:
        log.failed(
            source="hosts", evidence=str(path), kind=exc.kind, message=exc.message, sha256=digest
        )
        return []
    if isinstance(document, dict) and document.get("format") == FORMAT:
        return _read_host_scan(document, path, digest, log)
    if isinstance(document, dict) and isinstance(document.get("device"), dict):
        return _read_dmg(document, path, digest, log)
    log.failed(
        source="hosts",
        evidence=str(path),
        kind="unsupported",
        message=f'{path} is JSON but neither an ircore host scan ("format": "{FORMAT}") nor '
        'a Dev Machine Guard export (a "device" object with node_projects); it was not read',
        sha256=digest,
    )
    return []


def load_hosts(
    source: PathLike | Iterable[PathLike], *, log: EvidenceLog | None = None
) -> pd.DataFrame:
    """Read developer machine scans into one ``inventory`` frame.

    Parameters
    ----------
    source
        A JSON file, or a folder searched (recursively) for ``*.json`` files, or several:
        ircore host scans (``ircore scan-host``) and Dev Machine Guard JSON exports, mixed.
    log
        Collects every file read, the inputs and problems carried in host scans, and every file
        that could not be read; a fresh one when omitted.

    Returns
    -------
    pandas.DataFrame
        The ``inventory`` schema: ``name``, ``version`` (string), ``dev``, ``optional``,
        ``direct``, ``bundled`` (boolean, NA when the input does not say), ``introducer``,
        ``dependency_path``, ``install_path``, ``alias``, ``resolved``, ``origin_kind``,
        ``lockfile_format``, ``file``, ``repo``, ``ref``, ``surface`` (always ``host``),
        ``host``, ``user`` (string), ``first_seen``, ``last_seen`` (datetime64[ns, UTC]),
        ``source`` (``host-scan`` or ``dev-machine-guard``) and ``evidence`` (string). Dev
        Machine Guard rows have ``repo`` the project path, ``last_seen`` the scan time and
        ``evidence`` ``<file>#/node_projects/<n>``.
    """
    log = log if log is not None else EvidenceLog()
    rows: list[dict[str, Any]] = []
    for path in log.existing(as_paths(source), source="hosts"):
        for file in [path] if path.is_file() else _json_files(path, log):
            rows.extend(_read_file(file, log))
    return new_frame("inventory", rows)
