"""build_report end to end: real papermill execution, real nbconvert, hostile strings."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from ircore._frames import new_frame
from ircore._investigation import Incident, Investigation
from ircore.report import BundleRefused, build_report, package_notebooks

pytestmark = pytest.mark.slow

EVIL_PACKAGE = "<img src=x onerror=alert(1)>"
EVIL_PATH = "/clones/acme/docs/<script>alert(2)</script>/yarn.lock"
EVIL_FILE = "<script>alert(3)</script>/package-lock.json"
REPO_NOTEBOOK = Path(__file__).resolve().parents[1] / "ircore" / "notebooks" / "blast_radius.ipynb"
PLOTLY_BANNER = re.compile(r"plotly\.js v\d+\.\d+\.\d+")


def _occurrence(repo: str, ref: str, name: str, version: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "repo": repo,
        "ref": ref,
        "surface": "default_branch" if ref == "main" else "pull_request",
        "file": "package-lock.json",
        "name": name,
        "version": version,
        "dev": False,
        "direct": False,
        "introducer": "express",
        "dependency_path": f"express > {name}",
        "origin_kind": "registry",
    }
    row.update(kw)
    return row


def hostile_investigation() -> Investigation:
    """Three repos, one unreadable lockfile, and names that try to run script."""
    found = [
        _occurrence(
            "acme/web",
            "main",
            "chalk",
            "5.6.1",
            dev=True,
            introducer="eslint",
            dependency_path="eslint > chalk",
        ),
        _occurrence(
            "acme/web",
            "refs/pull/7/head",
            "chalk",
            "5.6.1",
            dev=True,
            introducer="eslint",
            dependency_path="eslint > chalk",
        ),
        _occurrence(
            "acme/api",
            "main",
            "debug",
            "4.4.2",
            direct=True,
            introducer="debug",
            dependency_path="debug",
        ),
        _occurrence("acme/api", "main", EVIL_PACKAGE, "1.0.0", file=EVIL_FILE),
    ]
    exposure = new_frame(
        "exposure",
        [
            dict(r, advisory_id="MAL-2025-1", classification="malware", evidence="/clones/x")
            for r in found
        ],
    )
    inventory = new_frame(
        "inventory",
        [*found, {"repo": "acme/docs", "ref": "main", "name": "left-pad", "version": "1.3.0"}],
    )
    inputs = new_frame(
        "inputs",
        [
            {
                "source": "clone",
                "evidence": "/clones/acme/web/package-lock.json",
                "repo": "acme/web",
                "ref": "main",
                "file": "package-lock.json",
                "format": "npm-lock-v3",
                "status": "parsed",
                "packages": 120,
            },
            {
                "source": "clone",
                "evidence": "/clones/acme/api/package-lock.json",
                "repo": "acme/api",
                "ref": "main",
                "file": "package-lock.json",
                "format": "npm-lock-v3",
                "status": "parsed",
                "packages": 80,
            },
            {
                "source": "clone",
                "evidence": EVIL_PATH,
                "repo": "acme/docs",
                "ref": "main",
                "file": "yarn.lock",
                "format": "yarn-v1",
                "status": "failed",
            },
        ],
    )
    problems = new_frame(
        "problems",
        [
            {
                "source": "clone",
                "evidence": EVIL_PATH,
                "kind": "truncated",
                "message": "unexpected end of file",
                "repo": "acme/docs",
                "ref": "main",
            }
        ],
    )
    incident = Incident(
        name="npm maintainer phish, September 2025",
        summary="chalk and debug versions published with a crypto-stealer.",
        packages={"chalk": ["5.6.1"], "debug": ["4.4.2"], EVIL_PACKAGE: ["1.0.0"]},
        window_start=pd.Timestamp("2025-09-08T13:00:00Z"),
    )
    return Investigation(
        incident=incident,
        advisories=new_frame("advisories"),
        inventory=inventory,
        exposure=exposure,
        problems=problems,
        inputs=inputs,
    )


def build_hostile_bundle(out: Path, *, extra_notebooks: tuple[Path, ...] = ()) -> Path:
    lockfile = out.parent / "package-lock.json"
    lockfile.write_text('{"lockfileVersion": 3, "packages": {}}\n')
    return build_report(
        hostile_investigation(),
        out=out,
        notebooks=("blast_radius", *extra_notebooks),
        parameters={"org_name": "acme <corp>"},
        input_files=[lockfile],
    )


def figures_in(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return sum(
        "application/vnd.plotly.v1+json" in o.get("data", {})
        for c in nb.cells
        for o in c.get("outputs", [])
    )


def assert_offline(page: str) -> None:
    """No script, stylesheet or module is loaded from anywhere; plotly.js only inline."""
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", page, re.IGNORECASE)
    assert not re.search(r"import\s*\(?\s*[\"'](https?:)?//", page)
    assert "require.js" not in page and "require.min.js" not in page
    assert "unpkg.com" not in page
    # plotly.js itself mentions CDNs in its code; everything else must not.
    rest = page.replace(get_plotlyjs(), "").lower()
    assert "cdn" not in rest
    assert "mathjax.js" not in rest and "tex-svg" not in rest


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "report"
    index = build_hostile_bundle(out)
    assert index == out / "index.html"
    return out


def _siblings(out: Path) -> list[str]:
    """Working folders a build left beside ``out`` (it should leave none)."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_bundle_files(bundle: Path) -> None:
    for name in (
        "index.html",
        "blast_radius.html",
        "manifest.json",
        "notebooks/blast_radius.ipynb",
    ):
        assert (bundle / name).is_file(), name
    frames = {p.name for p in (bundle / "evidence").iterdir()}
    assert frames == {
        "advisories.parquet",
        "declared.parquet",
        "iocs.parquet",
        "versions.parquet",
        "inventory.parquet",
        "exposure.parquet",
        "problems.parquet",
        "inputs.parquet",
        "incident.json",
    }
    again = Investigation.load(bundle / "evidence")
    assert EVIL_PACKAGE in set(again.exposure["name"])
    # built beside, moved into place: nothing left over, and readable as a normal folder is
    assert _siblings(bundle) == []
    assert bundle.stat().st_mode & 0o777 == 0o777 & ~_umask()


def test_manifest(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["parameters"] == {"evidence": "evidence", "org_name": "acme <corp>"}
    assert manifest["incident"] == "npm maintainer phish, September 2025"
    assert manifest["versions"]["ircore"]
    assert manifest["versions"]["python"] == sys.version.split()[0]
    assert manifest["versions"]["pandas"] == pd.__version__
    assert pd.Timestamp(manifest["created"]).tzinfo is not None
    assert [n["name"] for n in manifest["notebooks"]] == ["blast_radius"]
    assert manifest["notebooks"][0]["html"] == "blast_radius.html"
    assert (
        manifest["notebooks"][0]["source_sha256"]
        == hashlib.sha256(REPO_NOTEBOOK.read_bytes()).hexdigest()
    )
    on_disk = sorted(p for p in (bundle / "evidence").iterdir())
    assert sorted(manifest["evidence"]) == [f"evidence/{p.name}" for p in on_disk]
    for rel, digest in manifest["evidence"].items():
        assert hashlib.sha256((bundle / rel).read_bytes()).hexdigest() == digest
    [lock] = manifest["inputs"]
    data = Path(lock["path"]).read_bytes()
    assert lock["sha256"] == hashlib.sha256(data).hexdigest() and lock["bytes"] == len(data)
    # every file of the bundle, so anything else in the folder is known not to be ours
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk


def test_executed_notebook(bundle: Path) -> None:
    nb = nbformat.read(bundle / "notebooks" / "blast_radius.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    # relative evidence: the bundle moves, and no local path is published
    assert 'evidence = "evidence"' in injected[0].source
    assert str(bundle) not in injected[0].source
    assert figures_in(bundle / "notebooks" / "blast_radius.ipynb") == 6
    # papermill records where it read and wrote: no local (or temporary) path in a shared file
    assert nb.metadata.papermill.input_path == "ircore/notebooks/blast_radius.ipynb"
    assert nb.metadata.papermill.output_path == "notebooks/blast_radius.ipynb"
    text = (bundle / "notebooks" / "blast_radius.ipynb").read_text()
    assert str(bundle.parent) not in text and str(REPO_NOTEBOOK.parent) not in text


def test_repo_notebook_is_committed_clean() -> None:
    assert package_notebooks()["blast_radius"] == REPO_NOTEBOOK
    nb = nbformat.read(REPO_NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None
        assert len(cell.source.splitlines()) <= 15
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    assert "evidence =" in params[0].source and "org_name =" in params[0].source
    assert nb.metadata.kernelspec.name == "python3"


def test_html_is_offline_with_plotly_once_and_escaped(bundle: Path) -> None:
    section = (bundle / "blast_radius.html").read_text()
    index = (bundle / "index.html").read_text()
    for page in (section, index):
        assert_offline(page)
        assert EVIL_PACKAGE not in page
        assert "<script>alert(" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert len(PLOTLY_BANNER.findall(section)) == 1
    assert section.count(get_plotlyjs()) == 1
    assert "<script" not in index.lower()
    assert section.count("Plotly.newPlot(") == 6
    # code is not in the report, only its results
    assert "Investigation.load" not in section and "setup_notebook" not in section
    assert "application/vnd.jupyter.widget" not in section
    assert '"Not affected" cannot be concluded' in section
    assert '"Not affected" cannot be concluded' in index
    assert 'href="blast_radius.html"' in index


WIDGET_NOTEBOOK = """
import ipywidgets, sys
import plotly.graph_objects as go
from ircore import report
report.setup_notebook()
display(ipywidgets.IntSlider(value=3))
go.Figure(go.Bar(x=["a"], y=[1])).show()
print("stray warning", file=sys.stderr)
"""


def test_widgets_stripped_and_fig_show_uses_offline_renderer(tmp_path: Path) -> None:
    extra = tmp_path / "widgets_and_show.ipynb"
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Widgets"),
            nbformat.v4.new_code_cell("evidence = ''", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(textwrap.dedent(WIDGET_NOTEBOOK).strip()),
        ],
        metadata={
            "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}
        },
    )
    nbformat.write(nb, extra)
    build_hostile_bundle(tmp_path / "out", extra_notebooks=(extra,))
    executed = tmp_path / "out" / "notebooks" / "widgets_and_show.ipynb"
    assert "widget-view" in executed.read_text()  # the kernel did make a widget
    page = (tmp_path / "out" / "widgets_and_show.html").read_text()
    assert_offline(page)
    assert "application/vnd.jupyter.widget" not in page
    assert len(PLOTLY_BANNER.findall(page)) == 1
    assert page.count("Plotly.newPlot(") == 1
    assert "stray warning" not in page
    index = (tmp_path / "out" / "index.html").read_text()
    assert 'href="widgets_and_show.html"' in index and ">Widgets<" in index


def test_refuses_secrets_before_writing_anything(tmp_path: Path) -> None:
    for params in ({"github_token": "x"}, {"org_name": "ghp_" + "A" * 36}):
        with pytest.raises(ValueError):
            build_report(hostile_investigation(), out=tmp_path / "out", parameters=params)
    assert not (tmp_path / "out").exists()


def test_refuses_to_clobber(tmp_path: Path, bundle: Path) -> None:
    with pytest.raises(
        FileExistsError, match=r"already holds a report bundle; pass overwrite=True"
    ):
        build_report(hostile_investigation(), out=bundle)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds no report bundle"):
        build_report(hostile_investigation(), out=precious, overwrite=True)
    assert (precious / "notes.txt").read_text() == "mine"
    a_file = tmp_path / "report.html"
    a_file.write_text("not a folder")
    with pytest.raises(BundleRefused, match="is a file"):
        build_report(hostile_investigation(), out=a_file, overwrite=True)
    assert a_file.read_text() == "not a folder"
    with pytest.raises(ValueError, match="no report notebook"):
        build_report(hostile_investigation(), out=tmp_path / "x", notebooks=("nope",))


def test_overwrite_refuses_a_bundle_holding_notes_and_names_them(
    tmp_path: Path, bundle: Path
) -> None:
    copy = tmp_path / "report"
    shutil.copytree(bundle, copy)
    (copy / "notes.md").write_text("call the vendor back")
    (copy / "evidence" / "extra.csv").write_text("a,b\n")
    before = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    with pytest.raises(BundleRefused) as refused:
        build_report(hostile_investigation(), out=copy, overwrite=True)
    assert "evidence/extra.csv, notes.md" in str(refused.value)
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == before
    assert _siblings(copy) == []


def test_failed_rebuild_leaves_the_earlier_bundle_intact(tmp_path: Path, bundle: Path) -> None:
    import papermill

    copy = tmp_path / "report"
    shutil.copytree(bundle, copy)
    digests = {
        p.relative_to(copy): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in copy.rglob("*")
        if p.is_file()
    }
    broken = tmp_path / "broken.ipynb"
    nbformat.write(_raising_notebook("raise RuntimeError('evidence is odd')"), broken)
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        build_report(hostile_investigation(), out=copy, notebooks=(broken,), overwrite=True)
    assert any("left as it was" in note for note in getattr(failed.value, "__notes__", []))
    after = {
        p.relative_to(copy): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in copy.rglob("*")
        if p.is_file()
    }
    assert after == digests
    assert _siblings(copy) == []


def _raising_notebook(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source)],
        metadata={
            "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}
        },
    )


def test_failed_notebook_leaves_a_bundle_that_says_so(tmp_path: Path) -> None:
    import papermill

    broken = tmp_path / "broken.ipynb"
    nbformat.write(_raising_notebook("raise RuntimeError('evidence is odd')"), broken)
    out = tmp_path / "out"
    with pytest.raises(papermill.PapermillExecutionError):
        build_report(hostile_investigation(), out=out, notebooks=(broken,))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "evidence is odd" in manifest["error"]
    assert "evidence is odd" in (out / "notebooks" / "broken.ipynb").read_text()
    assert not (out / "index.html").exists()
    # a failed bundle is still a bundle (its manifest lists what it wrote): it can be replaced
    build_report(hostile_investigation(), out=out, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert not (out / "notebooks" / "broken.ipynb").exists()
    assert _siblings(out) == []


FRESH_VENV_SCRIPT = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_report_bundle import build_hostile_bundle
print(build_hostile_bundle(Path(sys.argv[1])))
"""


def test_runs_in_a_fresh_venv_ignoring_other_python3_kernelspecs(tmp_path: Path) -> None:
    """A new venv has no kernelspec on disk; a user-level "python3" spec may be another env."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The packages (and their .pth files, ircore's editable install among them), but not the
    # prefix: the dev venv's share/jupyter/kernels stays unseen.
    ours = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "deps.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in ours)
    )
    assert not (venv / "share" / "jupyter" / "kernels").exists()

    decoy = tmp_path / "jupyter" / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(
        json.dumps(
            {
                "argv": ["/bin/false", "{connection_file}"],
                "display_name": "decoy",
                "language": "python",
            }
        )
    )
    # nbconvert's templates are data files that a real install puts under its own prefix; the
    # dev venv's share/jupyter stands in for them, behind the decoy so the decoy wins by name.
    data = os.pathsep.join([str(tmp_path / "jupyter"), str(Path(sys.prefix, "share", "jupyter"))])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHON"))}
    env.update(
        HOME=str(tmp_path / "home"),
        JUPYTER_PATH=data,
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
    )
    script = tmp_path / "run.py"
    script.write_text(FRESH_VENV_SCRIPT.format(tests=str(Path(__file__).parent)))
    out = tmp_path / "bundle"
    done = subprocess.run(
        [str(python), str(script), str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    decoyed = subprocess.run(
        [
            str(python),
            "-c",
            "from jupyter_client.kernelspec import get_kernel_spec as g; "
            "print(g('python3').argv[0])",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert decoyed.stdout.strip() == "/bin/false"  # what papermill would have run by name
    assert done.stdout.strip().endswith("index.html")
    nb = nbformat.read(out / "notebooks" / "blast_radius.ipynb", as_version=4)
    assert figures_in(out / "notebooks" / "blast_radius.ipynb") == 6
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]


def test_wheel_ships_notebooks_and_template(tmp_path: Path) -> None:
    """`ircore report` from an installed wheel needs the notebooks and the nbconvert template."""
    pytest.importorskip("hatchling")
    root = REPO_NOTEBOOK.parents[2]
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", ".gitignore"):
        if (root / name).exists():
            shutil.copy(root / name, src / name)
    shutil.copytree(root / "ircore", src / "ircore", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "dist")],
        cwd=src,
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ircore/notebooks/blast_radius.ipynb" in names
    assert {
        "ircore/report/templates/ircore/conf.json",
        "ircore/report/templates/ircore/index.html.j2",
    } <= names
