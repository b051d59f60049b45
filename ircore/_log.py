"""Collects what every loader read and what it could not read.

Nothing is dropped silently: a loader records each input it looked at (``inputs``) and each
failure (``problems``), and the report shows both. "Not affected" may only be said when every
input in the log has status ``parsed`` or ``empty``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ircore._errors import InputError
from ircore._frames import new_frame
from ircore._paths import read_bytes, sha256


@dataclass
class EvidenceLog:
    """A running record of inputs read and problems met, shared by the loaders of one investigation."""

    _problems: list[dict[str, Any]] = field(default_factory=list)
    _inputs: list[dict[str, Any]] = field(default_factory=list)

    def problem(
        self,
        *,
        source: str,
        evidence: str,
        kind: str,
        message: str,
        repo: str = "",
        ref: str = "",
        host: str = "",
    ) -> None:
        self._problems.append(
            {
                "source": source,
                "evidence": evidence,
                "kind": kind,
                "message": message,
                "repo": repo,
                "ref": ref,
                "host": host,
            }
        )

    def input(
        self,
        *,
        source: str,
        evidence: str,
        status: str,
        repo: str = "",
        ref: str = "",
        file: str = "",
        format: str = "",
        packages: int | None = None,
        sha256: str = "",
        notes: str = "",
        host: str = "",
    ) -> None:
        self._inputs.append(
            {
                "source": source,
                "evidence": evidence,
                "repo": repo,
                "ref": ref,
                "host": host,
                "file": file,
                "format": format,
                "status": status,
                "packages": packages,
                "sha256": sha256,
                "notes": notes,
            }
        )

    def failed(
        self,
        *,
        source: str,
        evidence: str,
        kind: str,
        message: str,
        repo: str = "",
        ref: str = "",
        file: str = "",
        format: str = "",
        sha256: str = "",
        host: str = "",
    ) -> None:
        """An input that was found but could not be read: a problem and a failed input."""
        self.problem(
            source=source,
            evidence=evidence,
            kind=kind,
            message=message,
            repo=repo,
            ref=ref,
            host=host,
        )
        self.input(
            source=source,
            evidence=evidence,
            status="failed",
            repo=repo,
            ref=ref,
            host=host,
            file=file,
            format=format,
            sha256=sha256,
        )

    def read(self, path: Path, *, source: str) -> bytes | None:
        """The bytes of a file that was found, or None once its failure is recorded."""
        try:
            return read_bytes(path)
        except OSError as exc:
            self.failed(
                source=source,
                evidence=str(path),
                kind=getattr(exc, "kind", "unreadable"),  # too-large, not-a-file from read_bytes
                message=f"{path} could not be read ({exc.strerror or exc})",
                file=path.name,
            )
            return None

    def refused(
        self, error: InputError, *, source: str, evidence: str, path: Path, format: str, data: bytes
    ) -> None:
        """A file that was read but whose content a parser refused: a failed input."""
        self.failed(
            source=source,
            evidence=evidence,
            kind=error.kind,
            message=error.message,
            file=path.name,
            format=format,
            sha256=sha256(data),
        )

    def existing(self, paths: Iterable[Path], *, source: str) -> Iterator[Path]:
        """The given paths that exist; each missing one is recorded as a problem, never skipped."""
        for path in paths:
            if path.exists():
                yield path
            else:
                self.problem(
                    source=source,
                    evidence=str(path),
                    kind="missing",
                    message=f"{path} does not exist",
                )

    def extend(self, other: EvidenceLog) -> None:
        self._problems.extend(other._problems)
        self._inputs.extend(other._inputs)

    @property
    def problems(self) -> pd.DataFrame:
        return new_frame("problems", self._problems)

    @property
    def inputs(self) -> pd.DataFrame:
        return new_frame("inputs", self._inputs)

    @property
    def complete(self) -> bool:
        """True when every input was read: the only state in which "not affected" may be said."""
        return not self._problems and all(i["status"] != "failed" for i in self._inputs)
