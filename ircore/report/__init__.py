"""Reports: offline plotly display, chart builders, blast-radius numbers and bundle rendering.

Notebooks call :func:`setup_notebook` first, then ``show``/``show_table``/``headline``/
``show_problems``; :func:`build_report` executes them with papermill and renders a bundle.
"""

from ircore.report._display import (
    VERDICT_TONES,
    evidence_root,
    figure_bundle,
    headline,
    headline_html,
    incident_html,
    inputs_display,
    problems_html,
    scope_html,
    setup_notebook,
    shorten_paths,
    show,
    show_incident,
    show_inputs,
    show_problems,
    show_scope,
    show_table,
    table_html,
)
from ircore.report._figures import (
    affected_repos_figure,
    blast_radius_tree_figure,
    empty_figure,
    plot_text,
)
from ircore.report._render import (
    BundleRefused,
    build_report,
    check_bundle_folder,
    check_parameters,
    kit_version,
    package_notebooks,
    render_html,
    sha256_file,
    strip_widgets,
)

__all__ = [
    "VERDICT_TONES",
    "BundleRefused",
    "affected_repos_figure",
    "blast_radius_tree_figure",
    "build_report",
    "check_bundle_folder",
    "check_parameters",
    "empty_figure",
    "evidence_root",
    "figure_bundle",
    "headline",
    "headline_html",
    "incident_html",
    "inputs_display",
    "kit_version",
    "package_notebooks",
    "plot_text",
    "problems_html",
    "render_html",
    "scope_html",
    "setup_notebook",
    "sha256_file",
    "shorten_paths",
    "show",
    "show_incident",
    "show_inputs",
    "show_problems",
    "show_scope",
    "show_table",
    "strip_widgets",
    "table_html",
]
