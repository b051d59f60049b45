"""ircore: an investigation kit for the day an npm package you depend on is compromised.

Loaders turn evidence into pandas frames of documented schemas; analysis functions take frames
and return frames; notebooks and ``ircore report`` turn them into shareable HTML.
"""

from ircore._config import Sources, load_incident, load_sources
from ircore._errors import (
    ConfigError,
    InputError,
    InvalidRange,
    InvalidVersion,
    IrcoreError,
    SchemaError,
    SourceError,
)
from ircore._frames import SCHEMAS, conform, new_frame, validate
from ircore._investigate import investigate, open_investigation
from ircore._investigation import Incident, Investigation
from ircore._log import EvidenceLog
from ircore.analysis import match_exposure
from ircore.inventory import load_declared, load_hosts, load_inventory, scan_host
from ircore.inventory._github import load_github_inventory
from ircore.inventory._stepsecurity import (
    load_stepsecurity_mdm_search,
    load_stepsecurity_npm_search,
)
from ircore.threats import load_advisories

__version__ = "0.1.0"

__all__ = [
    "SCHEMAS",
    "ConfigError",
    "EvidenceLog",
    "Incident",
    "InputError",
    "InvalidRange",
    "InvalidVersion",
    "Investigation",
    "IrcoreError",
    "SchemaError",
    "SourceError",
    "Sources",
    "__version__",
    "conform",
    "investigate",
    "load_advisories",
    "load_declared",
    "load_github_inventory",
    "load_hosts",
    "load_incident",
    "load_inventory",
    "load_sources",
    "load_stepsecurity_mdm_search",
    "load_stepsecurity_npm_search",
    "match_exposure",
    "new_frame",
    "open_investigation",
    "scan_host",
    "validate",
]
