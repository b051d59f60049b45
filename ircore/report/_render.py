"""Build a report bundle: evidence as Parquet, executed notebooks, HTML sections, index, manifest.

Layout of ``out/``::

    index.html              what to open: incident, completeness, links to each section
    <name>.html             one self-contained page per notebook, code hidden
    notebooks/<name>.ipynb  the executed notebooks (outputs included)
    evidence/*.parquet      the frames the notebooks read (Investigation.save)
    manifest.json           parameters, versions, sha256 of inputs and evidence

Notebooks run with papermill in a kernel pinned to *this* interpreter (ipykernel's native
``python3`` spec built from ``sys.executable``), not whatever ``python3`` kernelspec happens to
be installed for the user, which may belong to another environment without ircore.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import importlib.metadata
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ircore._investigation import Investigation
from ircore.analysis._blast_radius import blast_radius_summary
from ircore.report._display import CSS, VERDICT_TONES, headline_html, incident_html, problems_html

if TYPE_CHECKING:
    from nbformat import NotebookNode

# nbformat, nbconvert, papermill and jupyter_client are imported where used: together they
# take seconds to import, and every report notebook imports ircore.report in its kernel.

#: The parameter every report notebook receives: the evidence folder, relative to the bundle.
EVIDENCE_DIR = "evidence"

# Papermill writes parameters into the executed notebook, and reports are shared
# (nteract/papermill#416): secrets come from the environment, never from here.
_SECRET_NAME = re.compile(r"token|key|secret|passw|credential", re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|npm_[A-Za-z0-9]{30,}"
    r"|AKIA[0-9A-Z]{16})\b"
)

_EXTRA_CSS = """
main{max-width:1180px;margin:0 auto}
.ircore-nav{display:flex;justify-content:space-between;gap:12px;max-width:1180px;
  margin:0 auto;padding:10px 20px 0 20px;color:#475467;
  font:13px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
.ircore-nav a{color:#175cd3;text-decoration:none}
.jp-RenderedMarkdown{font-size:15px;max-width:860px}
"""

# The index page has no script at all; nothing it contains may load anything.
_INDEX_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# Kernel output of a stray warning is noise to the reader of a report, but a stream is also
# where a failing library would say something: keep stdout, and stderr only in the .ipynb.
_HIDDEN_STREAMS = frozenset({"stderr"})


def package_notebooks() -> dict[str, Path]:
    """Return the report notebooks shipped with ircore, by name.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"blast_radius": .../ircore/notebooks/blast_radius.ipynb, ...}``.
    """
    folder = Path(str(resources.files("ircore") / "notebooks"))
    return {p.stem: p for p in sorted(folder.glob("*.ipynb"))}


def kit_version() -> str:
    """Return the version of ircore: the installed distribution's, else the source tree's."""
    try:
        return importlib.metadata.version("ircore")
    except importlib.metadata.PackageNotFoundError:
        pass
    import ircore

    version = getattr(ircore, "__version__", None)
    if version:
        return f"{version}+source"
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    match = re.search(r'^version\s*=\s*"([^"]+)"', _read(pyproject), re.MULTILINE)
    return f"{match.group(1)}+source" if match else "unknown"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def check_parameters(parameters: Mapping[str, object]) -> dict[str, object]:
    """Validate notebook parameters and return them as a JSON-safe dict.

    Parameters
    ----------
    parameters : mapping of str to object
        Extra notebook parameters (``org_name`` and the like).

    Returns
    -------
    dict
        A copy of ``parameters``.

    Raises
    ------
    ValueError
        When a name looks like a secret (``*token*``, ``*key*``, ``*secret*``, ``*password*``,
        ``*credential*``), a value looks like a GitHub, npm or AWS token, ``evidence`` is given
        (the bundle sets it), or a value is not JSON-serializable.
    """
    out: dict[str, object] = {}
    for name, value in parameters.items():
        if _SECRET_NAME.search(name):
            raise ValueError(
                f"parameter {name!r} looks like a secret; papermill stores parameters in the "
                "shared report. Pass secrets through environment variables instead."
            )
        if name == EVIDENCE_DIR:
            raise ValueError("'evidence' is set by build_report to the bundle's evidence folder")
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"parameter {name!r} is not JSON-serializable: {exc}") from None
        if _SECRET_VALUE.search(text):
            raise ValueError(f"parameter {name!r} holds what looks like an access token")
        out[name] = value
    return out


def _resolve_notebooks(names: Sequence[str | Path]) -> dict[str, Path]:
    shipped = package_notebooks()
    found: dict[str, Path] = {}
    for entry in names:
        text = str(entry)
        # A path lets a team add its own notebook next to the shipped ones.
        if text.endswith(".ipynb") or os.sep in text or "/" in text:
            path = Path(text).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"notebook {text!r} does not exist")
            found[path.stem] = path
        elif text in shipped:
            found[text] = shipped[text]
        else:
            raise ValueError(f"no report notebook {text!r}; shipped: {sorted(shipped)}")
    if not found:
        raise ValueError("no notebooks to run")
    return found


def _prepare(out: Path, *, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()):
        # Only a previous bundle is removed: `out` may be a folder the analyst cares about.
        if not overwrite:
            raise FileExistsError(f"{out} is not empty; pass overwrite=True to replace a bundle")
        if not (out / "manifest.json").is_file():
            raise FileExistsError(f"{out} is not empty and holds no report bundle; not touching it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


@cache
def _kernel_manager_class() -> type:
    """Return a kernel manager whose every kernel name means this interpreter's ipykernel."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisInterpreterKernelSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            spec = get_kernel_dict()  # argv = [sys.executable, "-m", "ipykernel_launcher", ...]
            # The kernel runs with cwd = the bundle; make it import the same ircore as the
            # caller, also when ircore runs from a source tree rather than an installed wheel.
            root = str(Path(__file__).resolve().parents[2])
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            return KernelSpec(resource_dir=RESOURCES, env={"PYTHONPATH": path}, **spec)

    class ThisInterpreterKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _pinned_spec_manager(self) -> KernelSpecManager:
            return ThisInterpreterKernelSpecs(parent=self)

    return ThisInterpreterKernelManager


def _execute(
    source: Path, target: Path, *, cwd: Path, parameters: dict[str, object], timeout: int
) -> None:
    import papermill

    papermill.execute_notebook(
        str(source),
        str(target),
        parameters=parameters,
        kernel_name="python3",
        language="python",
        cwd=str(cwd),
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        start_timeout=120,
        execution_timeout=timeout,
        kernel_manager_class=_kernel_manager_class(),
    )


def strip_widgets(nb: NotebookNode) -> NotebookNode:
    """Remove widget state and widget views from ``nb``, keeping their text fallbacks.

    Static HTML cannot run widgets: nbconvert would load the widget manager from a CDN and
    show frozen state. Widgets belong in interactive notebooks; reports use plotly.
    """
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            for mime in [m for m in data if m.startswith("application/vnd.jupyter.widget")]:
                del data[mime]
            if not data:
                data["text/plain"] = ""
    return nb


def _hide_streams(nb: NotebookNode) -> NotebookNode:
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") in _HIDDEN_STREAMS)
            ]
    return nb


def _title(nb: NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _description(nb: NotebookNode) -> str:
    return str(nb.metadata.get("ircore", {}).get("description", ""))


def render_html(notebook: Path, target: Path, *, title: str, footer: str) -> Path:
    """Render an executed notebook to self-contained HTML without code.

    Parameters
    ----------
    notebook : pathlib.Path
        The executed notebook.
    target : pathlib.Path
        Where to write the HTML.
    title : str
        The page title.
    footer : str
        A line shown in the navigation bar (kit version, time).

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    nb = _hide_streams(strip_widgets(nb))
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="ircore",
        extra_template_basedirs=[str(Path(__file__).parent / "templates")],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(
        nb, resources={"ircore_css": CSS + _EXTRA_CSS, "ircore_footer": footer}
    )
    target.write_text(body, encoding="utf-8")
    return target


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    out = {"ircore": kit_version(), "python": sys.version.split()[0], "pandas": pd.__version__}
    for dist in ("plotly", "papermill", "nbconvert", "pyarrow"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def build_report(
    investigation: Investigation,
    *,
    out: Path,
    notebooks: Sequence[str | Path] = ("blast_radius",),
    parameters: Mapping[str, object] | None = None,
    input_files: Sequence[Path] = (),
    overwrite: bool = False,
    timeout: int = 600,
) -> Path:
    """Execute the report notebooks on ``investigation`` and write a shareable bundle.

    Parameters
    ----------
    investigation : Investigation
        The incident and evidence frames; saved to ``out/evidence``.
    out : pathlib.Path
        Bundle folder; created. It must be empty, or a previous bundle when ``overwrite``.
    notebooks : sequence of str or pathlib.Path, optional
        Names of notebooks shipped in ``ircore/notebooks`` (see :func:`package_notebooks`),
        or paths to ``.ipynb`` files.
    parameters : mapping of str to object, optional
        Extra notebook parameters, e.g. ``{"org_name": "acme"}``. Each notebook also gets
        ``evidence="evidence"``, the evidence folder relative to ``out`` (the kernel's cwd), so
        the bundle can be moved and re-run and leaks no local path.
    input_files : sequence of pathlib.Path, optional
        The raw evidence files (lockfiles, exports, advisories); their sha256 go in the manifest.
    overwrite : bool, optional
        Replace an existing bundle in ``out``.
    timeout : int, optional
        Seconds a single cell may run.

    Returns
    -------
    pathlib.Path
        ``out/index.html``.

    Raises
    ------
    ValueError
        For secret-like parameters (see :func:`check_parameters`) or unknown notebooks.
    FileExistsError
        When ``out`` holds something that is not a bundle, or a bundle and not ``overwrite``.
    papermill.PapermillExecutionError
        When a notebook cell fails; the executed notebook, with the error, is left in
        ``out/notebooks`` for diagnosis and ``manifest.json`` says ``"status": "failed"``.
    """
    import nbformat

    params = {EVIDENCE_DIR: EVIDENCE_DIR, **check_parameters(parameters or {})}
    sources = _resolve_notebooks(notebooks)
    inputs = [Path(p) for p in input_files]
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"input files not found: {missing}")
    out = Path(out).resolve()
    _prepare(out, overwrite=overwrite)

    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    versions = _versions()
    footer = f"ircore {versions['ircore']} · generated {created.isoformat()}"
    manifest: dict[str, object] = {
        "status": "building",
        "created": created.isoformat(),
        "incident": investigation.incident.name,
        "versions": versions,
        "parameters": params,
        "notebooks": [],
        "inputs": [
            {"path": str(p), "sha256": sha256_file(p), "bytes": p.stat().st_size} for p in inputs
        ],
    }
    # Written first so a failed build is still recognisable as a bundle (and can be
    # overwritten), and says that it failed.
    _write_manifest(out, manifest)
    try:
        evidence = investigation.save(out / EVIDENCE_DIR)
        manifest["evidence"] = {
            p.relative_to(out).as_posix(): sha256_file(p) for p in sorted(evidence.values())
        }
        (out / "notebooks").mkdir()
        sections: list[dict[str, str]] = []
        manifest["notebooks"] = sections
        for name, source in sources.items():
            executed = out / "notebooks" / f"{name}.ipynb"
            _execute(source, executed, cwd=out, parameters=params, timeout=timeout)
            nb = nbformat.read(source, as_version=4)
            title = _title(nb, name.replace("_", " ").capitalize())
            page_title = f"{title} — {investigation.incident.name}"
            render_html(executed, out / f"{name}.html", title=page_title, footer=footer)
            sections.append(
                {
                    "name": name,
                    "title": title,
                    "description": _description(nb),
                    "html": f"{name}.html",
                    "notebook": f"notebooks/{name}.ipynb",
                    "source_sha256": sha256_file(source),
                }
            )
        index = out / "index.html"
        index.write_text(
            _index_html(investigation, sections, created=created, version=versions["ircore"])
        )
    except BaseException as exc:
        manifest["status"] = "failed"
        manifest["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        _write_manifest(out, manifest)
        raise
    manifest["status"] = "complete"
    _write_manifest(out, manifest)
    return index


def _write_manifest(out: Path, manifest: Mapping[str, object]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")


def _index_html(
    investigation: Investigation,
    sections: Sequence[Mapping[str, str]],
    *,
    created: dt.datetime,
    version: str,
) -> str:
    inc = investigation.incident
    summary = blast_radius_summary(
        investigation.exposure,
        investigation.inventory,
        investigation.inputs,
        problems=investigation.problems,
    )
    headline = headline_html(
        {
            "Repositories affected": f"{summary['repos_affected']} of {summary['repos_scanned']}",
            "Occurrences": summary["occurrences"],
            "Branches, PRs and commits affected": summary["refs_affected"],
            "Input problems": summary["unread"],
        },
        verdict=summary["verdict"],
        level=VERDICT_TONES[summary["verdict_level"]],
        highlight=[
            label
            for label, hot in (
                ("Repositories affected", summary["repos_affected"]),
                ("Input problems", summary["unread"]),
            )
            if hot
        ],
    )
    links = "".join(
        f'<li><a href="{html.escape(s["html"])}">{html.escape(s["title"])}</a>'
        + (f'<div class="d">{html.escape(s["description"])}</div>' if s["description"] else "")
        + "</li>"
        for s in sections
    )
    title = f"Incident report — {inc.name}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_INDEX_CSP}">
<title>{html.escape(title)}</title>
<style>{CSS}
body{{max-width:1000px;margin:0 auto;padding:24px 24px 48px 24px}}
h1{{font-size:26px;margin:0 0 4px 0}} h2{{font-size:19px;margin:28px 0 8px 0}}
.sub{{color:#475467;margin:0 0 16px 0}}
ul.sections{{list-style:none;padding:0;margin:0}}
ul.sections li{{border:1px solid #d0d5dd;border-radius:8px;padding:12px 16px;margin:8px 0}}
ul.sections a{{font-size:17px;font-weight:600;color:#175cd3;text-decoration:none}}
ul.sections .d{{color:#475467;font-size:14px;margin-top:2px}}
footer{{margin-top:36px;color:#667085;font-size:13px;border-top:1px solid #eaecf0;padding-top:10px}}
footer a{{color:#175cd3}}
</style>
</head>
<body>
<div class="ircore">
<h1>{html.escape(title)}</h1>
<p class="sub">Shareable report of the investigation. Open a section below; no code,
no network access needed.</p>
{incident_html(inc)}
<h2>Where things stand</h2>
{headline}
{problems_html(investigation.problems, investigation.inputs)}
<h2>Sections</h2>
<ul class="sections">{links}</ul>
<footer>Generated {html.escape(created.isoformat())} by ircore {html.escape(version)}.
Evidence frames: <a href="evidence/">evidence/</a> · executed notebooks:
<a href="notebooks/">notebooks/</a> · hashes and parameters:
<a href="manifest.json">manifest.json</a></footer>
</div>
</body>
</html>
"""
