"""Reports: offline plotly display, chart builders, blast-radius numbers and bundle rendering.

Notebooks call :func:`setup_notebook` first, then ``show``/``show_table``/``headline``/
``show_problems``; :func:`build_report` executes them with papermill and renders a bundle.
"""

from ircore.report._display import (
    VERDICT_TONES,
    figure_bundle,
    headline,
    headline_html,
    incident_html,
    problems_html,
    setup_notebook,
    show,
    show_incident,
    show_problems,
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
    build_report,
    check_parameters,
    kit_version,
    package_notebooks,
    render_html,
    sha256_file,
    strip_widgets,
)

__all__ = [
    "VERDICT_TONES",
    "affected_repos_figure",
    "blast_radius_tree_figure",
    "build_report",
    "check_parameters",
    "empty_figure",
    "figure_bundle",
    "headline",
    "headline_html",
    "incident_html",
    "kit_version",
    "package_notebooks",
    "plot_text",
    "problems_html",
    "render_html",
    "setup_notebook",
    "sha256_file",
    "show",
    "show_incident",
    "show_problems",
    "show_table",
    "strip_widgets",
    "table_html",
]
