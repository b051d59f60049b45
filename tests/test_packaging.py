"""The project declares its dependencies once; environment.yml must mirror pyproject.toml."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]


def _requirement(text: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", text)
    assert match, text
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2).replace(" ", "")


def test_environment_yml_mirrors_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = dict(
        _requirement(r)
        for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    )
    env = YAML(typ="safe").load((ROOT / "environment.yml").read_text())
    mirrored: dict[str, str] = {}
    for item in env["dependencies"]:
        entries = item["pip"] if isinstance(item, dict) else [item]
        for entry in entries:
            name, spec = _requirement(entry)
            if name in {"python", "pip", "-e"} or entry.startswith("-e"):
                continue
            mirrored[name] = spec
    assert mirrored == declared


def test_console_script_points_at_cli() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["ircore"] == "ircore.cli:main"
