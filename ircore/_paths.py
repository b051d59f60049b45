"""Small helpers shared by the file-reading loaders."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

PathLike = str | Path


def as_paths(sources: PathLike | Iterable[PathLike]) -> list[Path]:
    """Accept one path or many, the way every ``load_*`` function does."""
    if isinstance(sources, str | Path):
        return [Path(sources)]
    return [Path(s) for s in sources]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes:
    """Read a file; OSError propagates for the caller to turn into a ``problems`` row."""
    with path.open("rb") as handle:
        return handle.read()
