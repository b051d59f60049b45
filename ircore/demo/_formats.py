"""One interface over the lockfile formats the demo org commits: npm, yarn 1, Berry, pnpm, bun.

Every format's view can be edited with :func:`~ircore.demo._lockfile.pin_family`,
:func:`~ircore.demo._lockfile.plant` and :func:`~ircore.demo._lockfile.fix`, written back with
``dump()``, and read with ``hits()`` (the malicious releases it resolves, with dev/direct flags)
and ``problems()`` (anything a package manager would not have written).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from ircore.demo._bunlock import BunLock
from ircore.demo._lockfile import Entry, Hit, LockView, dump, problems, scan
from ircore.demo._pnpmlock import PnpmLock
from ircore.demo._yarnlock import YarnLock

#: The lockfile each package manager writes.
LOCKFILES: dict[str, str] = {
    "npm": "package-lock.json",
    "yarn-classic": "yarn.lock",
    "yarn-berry": "yarn.lock",
    "pnpm": "pnpm-lock.yaml",
    "bun": "bun.lock",
}


class LockFile(Protocol):
    """An editable, readable lockfile of any format."""

    manager: str
    lockfile_version: int | str
    entries: dict[str, Entry]

    def version(self, entry: Entry) -> str:
        """Return the entry's exact version."""
        ...

    def accepts(self, path: str, version: str) -> bool:
        """Tell whether every dependent of the entry accepts ``version``."""
        ...

    def set_version(self, path: str, version: str, template: dict[str, Any] | None) -> None:
        """Move the entry to ``version`` (``template`` None: a release gone from npm)."""
        ...

    def dump(self) -> str:
        """Return the text the package manager would write."""
        ...

    def hits(self) -> list[Hit]:
        """List the malicious releases resolved, sorted by path."""
        ...

    def problems(self) -> list[str]:
        """Return what the package manager would not have written."""
        ...


def manager_of(manifest: dict[str, Any]) -> str:
    """Return the package manager a root ``package.json`` names (``packageManager``), npm if none.

    Parameters
    ----------
    manifest : dict
        The root manifest.

    Returns
    -------
    str
        ``npm``, ``yarn-classic``, ``yarn-berry``, ``pnpm`` or ``bun``.
    """
    field = str(manifest.get("packageManager", ""))
    name, _, version = field.partition("@")
    if not field:
        return "npm"
    if name == "yarn":
        return "yarn-classic" if version.startswith("1.") else "yarn-berry"
    if name in ("pnpm", "bun"):
        return name
    raise ValueError(f"unknown packageManager {field!r}")


class NpmLock:
    """``package-lock.json`` (v1, v2, v3) behind the :class:`LockFile` interface."""

    manager = "npm"

    def __init__(self, text: str, manifests: dict[str, dict[str, Any]]) -> None:
        self.lock = json.loads(text)
        self.manifest = manifests["package.json"]
        self.lockfile_version: int | str = int(self.lock.get("lockfileVersion", 1))
        self.view = LockView(self.lock, self.manifest)
        self.entries = self.view.entries

    def version(self, entry: Entry) -> str:
        """Return the entry's exact version."""
        return self.view.version(entry)

    def accepts(self, path: str, version: str) -> bool:
        """Tell whether every dependent of the entry accepts ``version``."""
        return self.view.accepts(path, version)

    def set_version(self, path: str, version: str, template: dict[str, Any] | None) -> None:
        """Move the entry to ``version``."""
        self.view.set_version(path, version, template)

    def dump(self) -> str:
        """Return the text npm would write."""
        return dump(self.lock)

    def hits(self) -> list[Hit]:
        """List the malicious releases resolved, sorted by path."""
        return scan(self.lock, self.manifest)

    def problems(self) -> list[str]:
        """Return what npm would not have written."""
        return problems(self.lock, self.manifest)


def load_lock(manager: str, text: str, manifests: dict[str, dict[str, Any]]) -> LockFile:
    """Open lockfile ``text`` written by ``manager`` for editing and reading.

    Parameters
    ----------
    manager : str
        A key of :data:`LOCKFILES`.
    text : str
        The lockfile.
    manifests : dict
        The project's ``package.json`` files by relative path (``package.json`` is the root).

    Returns
    -------
    LockFile
        The view.
    """
    if manager == "npm":
        return NpmLock(text, manifests)
    if manager in ("yarn-classic", "yarn-berry"):
        return YarnLock(text, manifests)
    if manager == "pnpm":
        return PnpmLock(text, manifests)
    if manager == "bun":
        return BunLock(text, manifests)
    raise ValueError(f"unknown package manager {manager!r}")
