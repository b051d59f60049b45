"""Step 1 loaders: threat intelligence into the ``advisories`` frame."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ircore._errors import InputError
from ircore._frames import new_frame
from ircore._log import EvidenceLog
from ircore._paths import PathLike, as_paths, sha256
from ircore.threats._aliases import merge_aliases
from ircore.threats._ghsa import load_github_advisories, load_github_advisories_files
from ircore.threats._iocs import analyst_iocs, extract_iocs, structured_iocs
from ircore.threats._lists import list_advisory_rows
from ircore.threats._osv import decode_json, osv_advisory_rows
from ircore.threats._osv_api import load_osv_api
from ircore.threats._threat_center import load_threat_center, load_threat_center_export

__all__ = [
    "analyst_iocs",
    "extract_iocs",
    "load_advisories",
    "load_advisories_and_iocs",
    "load_github_advisories",
    "load_github_advisories_files",
    "load_osv_api",
    "load_threat_center",
    "load_threat_center_export",
    "merge_aliases",
    "structured_iocs",
]

LIST_SUFFIXES = {".csv", ".txt"}
# A single OSV record is a few KB; anything this large inside a zip is not one (or is a bomb).
MAX_ZIP_MEMBER = 16 * 1024 * 1024


# In a folder, .txt files are as often READMEs or SOURCES notes as lists; lists given as
# .txt are read when named explicitly.
FOLDER_SUFFIXES = {".json", ".zip", ".csv"}


def _files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix.lower() in FOLDER_SUFFIXES:
                yield child
    else:
        yield path


def _zip_members(path: Path, log: EvidenceLog) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.lower().endswith(".json"):
                continue
            evidence = f"{path}!{info.filename}"
            if info.file_size > MAX_ZIP_MEMBER:
                log.problem(
                    source="osv-zip",
                    evidence=evidence,
                    kind="too-large",
                    message=f"{evidence} unpacks to {info.file_size} bytes; not read",
                )
                continue
            yield evidence, archive.read(info)


def _rows_for(path: Path, data: bytes, evidence: str, source: str) -> list[dict[str, Any]]:
    if path.suffix.lower() in LIST_SUFFIXES:
        modified = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC")
        return list_advisory_rows(data, evidence=evidence, name=path.stem, modified=modified)
    return osv_advisory_rows(decode_json(data, what=evidence), evidence=evidence, source=source)


def load_advisories(
    sources: PathLike | Iterable[PathLike], *, log: EvidenceLog | None = None
) -> pd.DataFrame:
    """Load threat intelligence from files into one ``advisories`` frame.

    Parameters
    ----------
    sources
        OSV JSON files, folders of them (searched recursively, e.g. a clone of
        ``ossf/malicious-packages``), OSV zips (``all.zip`` layout), and published lists
        (``.csv``/``.txt`` with ``name,version``, ``name@version`` or ``name:version`` lines).
    log
        Collects every input read and every one that could not be; a fresh one when omitted.

    Returns
    -------
    pandas.DataFrame
        The ``advisories`` schema (:data:`ircore.SCHEMAS`): ``advisory_id``, ``aliases``,
        ``ecosystem``, ``package``, ``spec_kind`` (exact | osv_events | npm_range), ``spec``, ``role``
        (affected | origin), ``origin``, ``classification`` (malware | vulnerability), ``severity``,
        ``summary`` (string), ``published``, ``modified`` (datetime64[ns, UTC]), ``source``,
        ``evidence`` (string).
    """
    log = log if log is not None else EvidenceLog()
    return _load(sources, log, indicators=False)[0]


def load_advisories_and_iocs(
    sources: PathLike | Iterable[PathLike], *, log: EvidenceLog | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`load_advisories`, and the indicators the same OSV records hold, in one pass.

    Returns
    -------
    tuple of pandas.DataFrame
        The ``advisories`` frame, and the ``iocs`` frame: indicators stated in the records'
        fields (confidence ``structured``) and found in their summary and details (confidence
        ``extracted``, see :func:`ircore.threats.extract_iocs`). Published lists hold none.
    """
    log = log if log is not None else EvidenceLog()
    return _load(sources, log, indicators=True)


def _load(
    sources: PathLike | Iterable[PathLike], log: EvidenceLog, *, indicators: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows: list[dict[str, Any]] = []
    found_iocs: list[pd.DataFrame] = []
    collect = found_iocs if indicators else None
    for root in log.existing(as_paths(sources), source="advisories"):
        for path in _files(root):
            if path.suffix.lower() == ".zip":
                try:
                    members = list(_zip_members(path, log))
                except (OSError, zipfile.BadZipFile) as exc:
                    log.problem(
                        source="osv-zip",
                        evidence=str(path),
                        kind="unreadable",
                        message=f"{path} is not a readable zip ({exc})",
                    )
                    continue
                for evidence, data in members:
                    _read_one(
                        Path(evidence.rsplit("!", 1)[1]),
                        data,
                        evidence,
                        "osv-zip",
                        rows,
                        log,
                        iocs=collect,
                    )
                continue
            content = log.read(path, source="advisories")
            if content is None:
                continue
            source = "list" if path.suffix.lower() in LIST_SUFFIXES else "osv-dir"
            _read_one(path, content, str(path), source, rows, log, iocs=collect)
    frames = [f for f in found_iocs if not f.empty]
    iocs = pd.concat(frames, ignore_index=True) if frames else new_frame("iocs")
    return new_frame("advisories", rows), iocs


def _record_iocs(
    record: Any, rows: list[dict[str, Any]], evidence: str, source: str
) -> list[pd.DataFrame]:
    """Indicators of one OSV record: its fields first, then its prose."""
    if not isinstance(record, dict):
        return []
    advisory_id = str(rows[0]["advisory_id"])
    text = "\n\n".join(str(record.get(k) or "") for k in ("summary", "details"))
    packages = sorted({str(r["package"]) for r in rows if r.get("package")})
    where = {"advisory_id": advisory_id, "source": source, "evidence": evidence}
    return [
        structured_iocs(record, **where),
        extract_iocs(text, packages=packages, **where),
    ]


def _format(path: Path) -> str:
    return "published list" if path.suffix.lower() in LIST_SUFFIXES else "OSV record"


def _read_one(
    path: Path,
    data: bytes,
    evidence: str,
    source: str,
    rows: list[dict[str, Any]],
    log: EvidenceLog,
    *,
    iocs: list[pd.DataFrame] | None = None,
) -> None:
    try:
        found = _rows_for(path, data, evidence, source)
    except InputError as exc:
        log.refused(
            exc, source=source, evidence=evidence, path=path, format=_format(path), data=data
        )
        return
    rows.extend(found)
    if iocs is not None and found and path.suffix.lower() not in LIST_SUFFIXES:
        iocs.extend(_record_iocs(decode_json(data, what=evidence), found, evidence, source))
    log.input(
        source=source,
        evidence=evidence,
        status="parsed" if found else "empty",
        packages=len({r["package"] for r in found}),
        sha256=sha256(data),
    )
