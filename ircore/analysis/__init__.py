"""Analysis: pure functions over evidence frames (they know frames, never sources)."""

from ircore.analysis._blast_radius import (
    ADVISORY_SOURCES,
    AFFECTED_REPOS,
    DEPENDENCY_PATHS,
    advisory_claims,
    affected_repos,
    blast_radius_summary,
    breakdown_figures,
    dependency_paths,
    headline_figures,
    headline_highlight,
    noun,
    occurrences,
    package_versions,
    plural,
    unread_inputs,
)
from ircore.analysis._exposure import match_exposure

__all__ = [
    "ADVISORY_SOURCES",
    "AFFECTED_REPOS",
    "DEPENDENCY_PATHS",
    "advisory_claims",
    "affected_repos",
    "blast_radius_summary",
    "breakdown_figures",
    "dependency_paths",
    "headline_figures",
    "headline_highlight",
    "match_exposure",
    "noun",
    "occurrences",
    "package_versions",
    "plural",
    "unread_inputs",
]
