"""Build a report bundle: evidence as Parquet, executed notebooks, HTML sections, index, manifest.

Layout of ``out/``::

    index.html              what to open: incident, completeness, links to each section
    <name>.html             one self-contained page per notebook, code hidden
    notebooks/<name>.ipynb  the executed notebooks (outputs included)
    evidence/*.parquet      the frames the notebooks read (Investigation.save)
    manifest.json           parameters, versions, sha256 of inputs and evidence

A bundle is built in a hidden sibling folder (``.<name>.building-*``) and moved into place only
when every step succeeded: an interrupted or failed build never costs the previous bundle, and
a bundle folder holding files its manifest does not list (an analyst's notes) is never replaced.

Notebooks run with papermill in a kernel pinned to *this* interpreter (ipykernel's native
``python3`` spec built from ``sys.executable``), not whatever ``python3`` kernelspec happens to
be installed for the user, which may belong to another environment without ircore.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import pandas as pd

from ircore._investigation import Investigation
from ircore.analysis._blast_radius import (
    blast_radius_summary,
    headline_figures,
    headline_highlight,
)
from ircore.report._display import (
    CSS,
    VERDICT_TONES,
    headline_html,
    incident_html,
    problems_html,
    scope_html,
)

if TYPE_CHECKING:
    from nbformat import NotebookNode

# nbformat, nbconvert, papermill and jupyter_client are imported where used: together they
# take seconds to import, and every report notebook imports ircore.report in its kernel.

#: The parameter every report notebook receives: the evidence folder, relative to the bundle.
EVIDENCE_DIR = "evidence"
#: What makes a folder a bundle: written first by every build, listing every file at the end.
MANIFEST = "manifest.json"


class BundleRefused(FileExistsError):
    """The bundle folder cannot be written: it is a file, holds other things, or holds notes."""


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

_INTERACTIVE_REFUSED = (
    "notebook {name!r} is interactive (ipywidgets) and stays out of shared reports; open it "
    "in JupyterLab instead"
)

# The index page has no script at all; nothing it contains may load anything.
_INDEX_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# Kernel output of a stray warning is noise to the reader of a report, but a stream is also
# where a failing library would say something: keep stdout, and stderr only in the .ipynb.
_HIDDEN_STREAMS = frozenset({"stderr"})


#: Report sections in the order of the analyst's questions (DESIGN.md); a shipped notebook not
#: named here comes after them, by name.
SECTION_ORDER: tuple[str, ...] = ("confirm", "blast_radius", "runtime", "remediation", "timeline")


def _section_key(name: str) -> tuple[int, str]:
    rank = SECTION_ORDER.index(name) if name in SECTION_ORDER else len(SECTION_ORDER)
    return rank, name


def _shipped_notebooks() -> dict[str, Path]:
    folder = Path(str(resources.files("ircore") / "notebooks"))
    found = {p.stem: p for p in folder.glob("*.ipynb")}
    return {name: found[name] for name in sorted(found, key=_section_key)}


def is_interactive(notebook: Path) -> bool:
    """Whether ``notebook`` is for JupyterLab only (``metadata.ircore.interactive``).

    Interactive notebooks (the triage notebook) build ipywidgets; in a shared report a widget
    is frozen state behind a CDN-loaded manager, so reports never include them.
    """
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return False
    ircore_meta = meta.get("ircore") if isinstance(meta, dict) else None
    return bool(isinstance(ircore_meta, dict) and ircore_meta.get("interactive"))


def package_notebooks() -> dict[str, Path]:
    """Return the report notebooks shipped with ircore, by name.

    Interactive notebooks (see :func:`interactive_notebooks`) are not report notebooks and
    are left out.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"confirm": .../ircore/notebooks/confirm.ipynb, "blast_radius": ..., ...}``, in
        the order of the analyst's questions (:data:`SECTION_ORDER`).
    """
    return {k: p for k, p in _shipped_notebooks().items() if not is_interactive(p)}


def interactive_notebooks() -> dict[str, Path]:
    """Return the notebooks shipped for JupyterLab only (ipywidgets), by name: never rendered."""
    return {k: p for k, p in _shipped_notebooks().items() if is_interactive(p)}


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
    interactive = interactive_notebooks()
    found: dict[str, Path] = {}
    for entry in names:
        text = str(entry)
        # A path lets a team add its own notebook next to the shipped ones.
        if text.endswith(".ipynb") or os.sep in text or "/" in text:
            path = Path(text).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"notebook {text!r} does not exist")
            if is_interactive(path):
                raise ValueError(_INTERACTIVE_REFUSED.format(name=text))
            found[path.stem] = path
        elif text in shipped:
            found[text] = shipped[text]
        elif text in interactive:
            raise ValueError(_INTERACTIVE_REFUSED.format(name=text))
        else:
            raise ValueError(f"no report notebook {text!r}; shipped: {sorted(shipped)}")
    if not found:
        raise ValueError("no notebooks to run")
    return found


def _read_manifest(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _files_under(folder: Path) -> Iterator[str]:
    """Every file below ``folder`` as a relative POSIX path; symlinks count as files."""
    for here, dirs, files in os.walk(folder):
        base = Path(here)
        # A symlinked folder is not followed (its target is not ours) but is reported.
        links = [d for d in dirs if (base / d).is_symlink()]
        dirs[:] = [d for d in dirs if d not in links]
        for name in [*files, *links]:
            yield (base / name).relative_to(folder).as_posix()


def _listed_files(manifest: Mapping[str, object]) -> set[str]:
    listed = manifest.get("files")
    if isinstance(listed, list):
        names = {str(f) for f in listed}
    else:  # a bundle written before manifests listed their files
        evidence = manifest.get("evidence")
        names = {str(k) for k in evidence} if isinstance(evidence, dict) else set()
        names.add("index.html")
        sections = manifest.get("notebooks")
        for section in sections if isinstance(sections, list) else []:
            if isinstance(section, dict):
                names.update(str(section.get(k, "")) for k in ("html", "notebook"))
    names.add(MANIFEST)
    return names


def check_bundle_folder(out: Path, *, overwrite: bool, flag: str = "overwrite=True") -> bool:
    """Check that a bundle may be written to ``out``; return whether it replaces one.

    Parameters
    ----------
    out : pathlib.Path
        The bundle folder.
    overwrite : bool
        Whether an earlier bundle in ``out`` may be replaced.
    flag : str, optional
        How the caller spells "overwrite" in the refusal message (``"--overwrite"`` on the
        command line).

    Returns
    -------
    bool
        True when ``out`` holds an earlier bundle that the build will replace; False when
        ``out`` is missing or empty.

    Raises
    ------
    BundleRefused
        When ``out`` is a file; a non-empty folder without a readable ``manifest.json`` (not
        a bundle: never touched); a bundle and not ``overwrite``; or a bundle holding files
        its manifest does not list (notes the analyst put there), which are named.
    """
    out = Path(out)
    if not out.exists():
        return False
    if not out.is_dir():
        raise BundleRefused(f"{out} is a file; a report bundle is written to a folder")
    if not any(out.iterdir()):
        return False
    manifest = _read_manifest(out)
    if manifest is None:
        raise BundleRefused(
            f"{out} is not empty and holds no report bundle (no manifest.json); not touching "
            "it: choose a new or empty folder"
        )
    if not overwrite:
        raise BundleRefused(f"{out} already holds a report bundle; pass {flag} to replace it")
    unlisted = sorted(set(_files_under(out)) - _listed_files(manifest))
    if unlisted:
        shown = ", ".join(unlisted[:10]) + (
            f" and {len(unlisted) - 10} more" if len(unlisted) > 10 else ""
        )
        raise BundleRefused(
            f"{out} holds files that are not part of its report bundle: {shown}. Move them "
            "out of the folder (they may be someone's notes), then build again"
        )
    return True


#: Kernel managers papermill created through :func:`_kernel_manager_class`, so an interrupted
#: build can stop their kernels (see :func:`_stop_kernels`).
_KERNEL_MANAGERS: weakref.WeakSet[Any] = weakref.WeakSet()


def _stop_kernels() -> None:
    """Kill the kernels of an interrupted build, silently.

    The kernel runs in a session of its own, so the terminal's Ctrl-C never reaches it. Left
    alone, it is either shut down "gracefully" by papermill's cleanup in the middle of a cell,
    or notices that its parent is gone: both print warnings and a ZMQ traceback over the
    terminal. Killed first, it prints nothing; it was only computing a report.
    """
    for manager in list(_KERNEL_MANAGERS):
        process = getattr(getattr(manager, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the kernel leads its own session
            except (AttributeError, OSError):
                process.kill()
            process.wait(timeout=10)
        with contextlib.suppress(Exception):
            manager.cleanup_connection_file()
        _KERNEL_MANAGERS.discard(manager)


@contextlib.contextmanager
def _kernels_stopped_on_interrupt() -> Iterator[None]:
    """On Ctrl-C, kill the kernels first, then raise KeyboardInterrupt as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; elsewhere there is no Ctrl-C
        return
    previous = signal.getsignal(signal.SIGINT)

    def interrupted(signum: int, frame: FrameType | None) -> None:
        _stop_kernels()
        if callable(previous):
            previous(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@cache
def _kernel_manager_class() -> type:
    """Return a kernel manager whose every kernel name means this interpreter's ipykernel."""
    import zmq
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    # ipykernel 7 warns "Kernel is running over TCP without encryption" on every run. The fix
    # it asks for: CurveZMQ keys provisioned by the kernel manager (recent jupyter_client),
    # used when this ipykernel's spec declares support ("auto"). Older pairs neither warn
    # nor encrypt; nothing is silenced either way.
    encrypt = "transport_encryption" in AsyncKernelManager.class_trait_names() and zmq.has("curve")

    class ThisInterpreterKernelSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            spec = get_kernel_dict()  # argv = [sys.executable, "-m", "ipykernel_launcher", ...]
            # The kernel runs with cwd = the bundle; make it import the same ircore as the
            # caller, also when ircore runs from a source tree rather than an installed wheel.
            root = str(Path(__file__).resolve().parents[2])
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            return KernelSpec(resource_dir=RESOURCES, env={"PYTHONPATH": path}, **spec)

    class ThisInterpreterKernelManager(AsyncKernelManager):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            _KERNEL_MANAGERS.add(self)

        @default("kernel_spec_manager")
        def _pinned_spec_manager(self) -> KernelSpecManager:
            return ThisInterpreterKernelSpecs(parent=self)

        @default("shutdown_wait_time")
        def _patient_shutdown(self) -> float:
            # The default 5 s (SIGTERM after half of it) is too short on a busy machine.
            return 30.0

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            # The kernel process's own stderr carries only its housekeeping ("KeyboardInterrupt
            # caught in kernel", libzmq assertions at teardown), seen intermittently under load;
            # what cells print reaches the notebook through messages, not this stream.
            kw.setdefault("stderr", subprocess.DEVNULL)
            await super()._async_launch_kernel(kernel_cmd, **kw)

        if encrypt:

            @default("transport_encryption")
            def _curve_when_supported(self) -> str:
                return "auto"

    return ThisInterpreterKernelManager


def _execute(
    source: Path, target: Path, *, cwd: Path, parameters: dict[str, object], timeout: int
) -> None:
    import papermill

    with _kernels_stopped_on_interrupt():
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


def _relative_papermill_paths(executed: Path, source: Path) -> None:
    """Replace the absolute paths papermill records in the executed notebook's metadata.

    ``input_path`` names the installed notebook and ``output_path`` the build folder: local
    paths, the latter a temporary one, in a notebook meant to be shared.
    """
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("papermill")
    if meta is None:
        return
    shipped = package_notebooks().get(source.stem) == source
    meta["input_path"] = f"ircore/notebooks/{source.name}" if shipped else source.name
    meta["output_path"] = f"notebooks/{executed.name}"
    nbformat.write(nb, executed)


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
    notebooks: Sequence[str | Path] | None = None,
    parameters: Mapping[str, object] | None = None,
    input_files: Sequence[Path] = (),
    overwrite: bool = False,
    timeout: int = 600,
) -> Path:
    """Execute the report notebooks on ``investigation`` and write a shareable bundle.

    The bundle is built in a hidden sibling folder of ``out`` and moved into place only once
    complete, so an earlier bundle in ``out`` survives a failed or interrupted build.

    Parameters
    ----------
    investigation : Investigation
        The incident and evidence frames; saved to ``out/evidence``.
    out : pathlib.Path
        Bundle folder; created. It must be missing or empty, or hold an earlier bundle (with
        nothing its manifest does not list) when ``overwrite``.
    notebooks : sequence of str or pathlib.Path, optional
        Names of notebooks shipped in ``ircore/notebooks`` (see :func:`package_notebooks`),
        or paths to ``.ipynb`` files. By default every report notebook, in
        :func:`package_notebooks` order (confirm before blast radius).
    parameters : mapping of str to object, optional
        Extra notebook parameters, e.g. ``{"org_name": "acme"}``. Each notebook also gets
        ``evidence="evidence"``, the evidence folder relative to ``out`` (the kernel's cwd), so
        the bundle can be moved and re-run and leaks no local path.
    input_files : sequence of pathlib.Path, optional
        The raw evidence files (lockfiles, exports, advisories); their sha256 go in the manifest.
    overwrite : bool, optional
        Replace an earlier bundle in ``out``.
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
    BundleRefused
        A :class:`FileExistsError`: ``out`` is a file, holds something that is not a bundle,
        holds a bundle and not ``overwrite``, or holds files its bundle does not list (see
        :func:`check_bundle_folder`).
    papermill.PapermillExecutionError
        When a notebook cell fails. With no earlier bundle in ``out``, the failed build is
        moved there for diagnosis (``manifest.json`` says ``"status": "failed"``, the executed
        notebook holds the error); an earlier bundle is left as it was.
    """
    params = {EVIDENCE_DIR: EVIDENCE_DIR, **check_parameters(parameters or {})}
    sources = _resolve_notebooks(tuple(package_notebooks()) if notebooks is None else notebooks)
    inputs = [Path(p) for p in input_files]
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"input files not found: {missing}")
    out = Path(out).resolve()
    replacing = check_bundle_folder(out, overwrite=overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    # A sibling, so the final move is a rename on the same file system; hidden, so an
    # interrupted build does not look like a report to whoever lists the folder.
    work = _sibling_folder(out, "building")
    try:
        _build(investigation, work, sources=sources, params=params, inputs=inputs, timeout=timeout)
    except Exception as exc:
        kept = False
        if not replacing:  # nothing to lose: keep the failed build where the reader looks
            try:
                _move_into_place(work, out, overwrite=overwrite)
                kept = True
            except OSError:
                pass
        if not kept:
            shutil.rmtree(work, ignore_errors=True)
            if replacing and sys.version_info >= (3, 11):
                exc.add_note(f"ircore: the earlier bundle in {out} was left as it was")
        raise
    except BaseException:  # interrupted: nothing half-built is left behind
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        _move_into_place(work, out, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out / "index.html"


def _build(
    investigation: Investigation,
    out: Path,
    *,
    sources: Mapping[str, Path],
    params: dict[str, object],
    inputs: Sequence[Path],
    timeout: int,
) -> None:
    import nbformat

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
            try:
                _execute(source, executed, cwd=out, parameters=params, timeout=timeout)
            finally:
                if executed.is_file():
                    _relative_papermill_paths(executed, source)
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
            _index_html(investigation, sections, created=created, version=versions["ircore"]),
            encoding="utf-8",
        )
    except BaseException as exc:
        manifest["status"] = "failed"
        manifest["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        manifest["files"] = sorted(_files_under(out))
        _write_manifest(out, manifest)
        raise
    manifest["status"] = "complete"
    # Every file the build wrote: anything else found here later is not ours to delete.
    manifest["files"] = sorted({*_files_under(out), MANIFEST})
    _write_manifest(out, manifest)


def _sibling_folder(out: Path, purpose: str) -> Path:
    """Create ``.<out name>.<purpose>-<random>`` beside ``out``, with the umask's permissions.

    Not :func:`tempfile.mkdtemp`: its folders are private (0700), and this one becomes the
    bundle that others on the machine may need to read.
    """
    for _ in range(100):
        folder = out.parent / f".{out.name}.{purpose}-{secrets.token_hex(4)}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"could not create a working folder beside {out}")


def _move_into_place(work: Path, out: Path, *, overwrite: bool) -> None:
    """Replace ``out`` by the finished build in ``work``, keeping ``out`` until the last step."""
    # Checked again: notes may have been put in the old bundle while this one was built.
    if not check_bundle_folder(out, overwrite=overwrite):
        if out.is_dir():
            out.rmdir()  # empty: nothing to keep
        os.rename(work, out)
        return
    old = _sibling_folder(out, "replaced")
    os.rename(out, old / out.name)
    try:
        os.rename(work, out)
    except BaseException:
        os.rename(old / out.name, out)  # put the earlier bundle back
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_manifest(out: Path, manifest: Mapping[str, object]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out / MANIFEST).write_text(text, encoding="utf-8")


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
        advisories=investigation.advisories,
    )
    # The same tiles, in the same order, as the top of each section.
    headline = headline_html(
        headline_figures(summary),
        verdict=summary["verdict"],
        level=VERDICT_TONES[summary["verdict_level"]],
        highlight=headline_highlight(summary),
    )
    links = "".join(
        f'<li><a href="{html.escape(s["html"])}">{html.escape(s["title"])}</a>'
        + (f'<div class="d">{html.escape(s["description"])}</div>' if s["description"] else "")
        + "</li>"
        for s in sections
    )
    title = f"Incident report — {inc.name}"
    # The verdict comes first: on a phone, the incident card and the problem list would
    # otherwise push it two screens down.
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_INDEX_CSP}">
<title>{html.escape(title)}</title>
<style>{CSS}
body{{max-width:1000px;margin:0 auto;padding:24px 24px 48px 24px}}
h1{{font-size:26px;margin:0 0 4px 0;overflow-wrap:break-word}}
h2{{font-size:19px;margin:28px 0 8px 0}}
.sub{{color:#475467;margin:0 0 16px 0}}
ul.sections{{list-style:none;padding:0;margin:0}}
ul.sections li{{border:1px solid #d0d5dd;border-radius:8px;padding:12px 16px;margin:8px 0}}
ul.sections a{{font-size:17px;font-weight:600;color:#175cd3;text-decoration:none}}
ul.sections .d{{color:#475467;font-size:14px;margin-top:2px}}
footer{{margin-top:36px;color:#667085;font-size:13px;border-top:1px solid #eaecf0;padding-top:10px}}
footer a{{color:#175cd3}}
@media (max-width:600px){{body{{padding:16px 12px 32px 12px}} h1{{font-size:22px}}}}
</style>
</head>
<body>
<div class="ircore">
<h1>{html.escape(title)}</h1>
<p class="sub">Shareable report of the investigation. Open a section below; no code,
no network access needed.</p>
<h2>Where things stand</h2>
{headline}
{scope_html(investigation.inputs, covers="this report")}
{problems_html(investigation.problems, investigation.inputs)}
<h2>Sections</h2>
<ul class="sections">{links}</ul>
<h2>The incident</h2>
{incident_html(inc)}
<footer>Generated {html.escape(created.isoformat())} by ircore {html.escape(version)}.
Evidence frames: <a href="evidence/">evidence/</a> · executed notebooks:
<a href="notebooks/">notebooks/</a> · hashes and parameters:
<a href="{MANIFEST}">{MANIFEST}</a></footer>
</div>
</body>
</html>
"""
