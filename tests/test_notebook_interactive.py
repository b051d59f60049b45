"""The blast-radius notebook as an analyst runs it: spec files in, evidence gathered in the kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from ircore import ConfigError, open_investigation
from ircore.demo import build_demo_org
from ircore.report import package_notebooks
from ircore.report._render import _execute

pytestmark = pytest.mark.slow


def test_notebook_gathers_evidence_from_incident_and_sources(tmp_path: Path) -> None:
    org = build_demo_org(tmp_path / "org", repos=6)
    target = tmp_path / "run.ipynb"
    _execute(
        package_notebooks()["blast_radius"],
        target,
        cwd=tmp_path,
        timeout=300,
        parameters={"incident": str(org.incident_file), "sources": str(org.sources_file)},
    )
    executed = nbformat.read(target, as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    html = "".join(
        str(o.get("data", {}).get("text/html", ""))
        for c in executed.cells
        for o in c.get("outputs", [])
    )
    assert "ledger-cli" in html or "orders-api" in html  # affected demo repos appear


def test_open_investigation_needs_a_complete_choice(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both"):
        open_investigation(incident=tmp_path / "i.yaml")
    with pytest.raises(ConfigError, match="no saved investigation"):
        open_investigation(evidence=tmp_path)
    with pytest.raises(ConfigError, match="give 'evidence'"):
        open_investigation()
