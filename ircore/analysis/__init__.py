"""Analysis: pure functions over evidence frames (they know frames, never sources)."""

from ircore.analysis._blast_radius import (
    AFFECTED_REPOS,
    DEPENDENCY_PATHS,
    affected_repos,
    blast_radius_summary,
    dependency_paths,
    headline_figures,
    occurrences,
    package_versions,
)
from ircore.analysis._exposure import match_exposure

__all__ = [
    "AFFECTED_REPOS",
    "DEPENDENCY_PATHS",
    "affected_repos",
    "blast_radius_summary",
    "dependency_paths",
    "headline_figures",
    "match_exposure",
    "occurrences",
    "package_versions",
]
