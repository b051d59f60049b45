"""The result every lockfile parser returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LockfileResult:
    """What one lockfile holds, whatever its format.

    Attributes
    ----------
    format
        The format and its version as read from the file, e.g. ``"npm-lock-v3"``,
        ``"yarn-v1"``, ``"yarn-berry-v8"``, ``"pnpm-v9.0"``, ``"bun-lock-v1"``.
    rows
        One dict per installed package entry (the same ``name@version`` may appear several times
        at different install paths). Keys are a subset of the ``inventory`` schema: ``name``,
        ``version``, ``dev``, ``optional``, ``direct``, ``bundled``, ``introducer``,
        ``dependency_path``, ``install_path``, ``alias``, ``resolved``, ``origin_kind``; ``None``
        stands for "the input does not say".
    warnings
        Things an analyst should know that did not stop the parse, e.g. a v1 lockfile read
        without ``package.json`` (direct dependencies unknown). Each is one sentence.
    """

    format: str
    rows: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
