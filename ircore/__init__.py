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
)
from ircore._frames import SCHEMAS, conform, new_frame, validate
from ircore._investigate import investigate, open_investigation
from ircore._investigation import Incident, Investigation
from ircore._log import EvidenceLog
from ircore.analysis import match_exposure
from ircore.inventory import load_inventory
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
    "Sources",
    "__version__",
    "conform",
    "investigate",
    "load_advisories",
    "load_incident",
    "load_inventory",
    "load_sources",
    "match_exposure",
    "new_frame",
    "open_investigation",
    "validate",
]
