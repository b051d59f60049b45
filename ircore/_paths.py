"""Small helpers shared by the file-reading loaders."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

PathLike = str | Path

MAX_INPUT_BYTES = 200 * 1024 * 1024
"""The largest file :func:`read_bytes` reads whole into memory: 200 MiB.

The largest lockfiles of real monorepos are tens of megabytes; a file over this size under a
lockfile's name is a dump, a corrupted file or a file planted to exhaust memory, and is reported
(kind ``too-large``) rather than read.
"""


class InputRefused(OSError):
    """A path :func:`read_bytes` does not read; ``kind`` says why, for the ``problems`` frame.

    ``"too-large"``: over the size limit. ``"not-a-file"``: a FIFO, a device, a socket (a
    lockfile's name on a named pipe would block the scan forever; on ``/dev/zero``, never end).
    An OSError, so that every caller that reports unreadable files reports these too;
    ``strerror`` is the analyst-readable reason.
    """

    def __init__(self, kind: str, message: str, filename: str) -> None:
        code = errno.EFBIG if kind == "too-large" else errno.EINVAL
        super().__init__(code, message, filename)
        self.kind = kind


def as_paths(sources: PathLike | Iterable[PathLike]) -> list[Path]:
    """Accept one path or many, the way every ``load_*`` function does."""
    if isinstance(sources, str | Path):
        return [Path(sources)]
    return [Path(s) for s in sources]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path, *, limit: int | None = MAX_INPUT_BYTES) -> bytes:
    """Read a regular file of at most ``limit`` bytes (None: no limit).

    Raises
    ------
    InputRefused
        The path is not a regular file, or the file is larger than ``limit``.
    OSError
        Any other failure (missing, permission denied, a symlink loop), for the caller to turn
        into a ``problems`` row.
    """
    # O_NONBLOCK: opening a named pipe without a writer returns at once instead of waiting for
    # one; it changes nothing for a regular file.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputRefused(
                "not-a-file",
                f"not a regular file but a {_file_type(info.st_mode)}; ircore reads only files",
                str(path),
            )
        if limit is not None and info.st_size > limit:
            raise _too_large(path, info.st_size, limit)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        if limit is None:
            return handle.read()
        data = handle.read(limit + 1)  # a file still growing is cut at the limit, not read on
    if len(data) > limit:
        raise _too_large(path, len(data), limit)
    return data


def _too_large(path: Path, size: int, limit: int) -> InputRefused:
    return InputRefused(
        "too-large",
        f"{size / 2**20:,.0f} MiB, over the {limit / 2**20:,.0f} MiB ircore reads into memory; "
        "no package manager writes a lockfile that large, so it was not read",
        str(path),
    )


def _file_type(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "folder",
        stat.S_ISFIFO: "named pipe",
        stat.S_ISCHR: "character device",
        stat.S_ISBLK: "block device",
        stat.S_ISSOCK: "socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "special file")
