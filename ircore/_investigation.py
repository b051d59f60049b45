"""An investigation: the incident being investigated and the evidence frames gathered for it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ircore._frames import SCHEMAS, conform, new_frame

FRAMES = (
    "advisories",
    "iocs",
    "versions",
    "inventory",
    "declared",
    "exposure",
    "problems",
    "inputs",
)


@dataclass(frozen=True)
class Incident:
    """What the analyst is investigating, as written in an incident spec file.

    ``packages`` maps a package name to the versions or npm ranges claimed compromised;
    ``advisories`` selects advisory ids from the loaded threat sources.
    """

    name: str
    summary: str = ""
    packages: dict[str, list[str]] = field(default_factory=dict)
    advisories: list[str] = field(default_factory=list)
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None
    # The analyst's own indicators: "domain:evil.example", a bare value, or {type, value}.
    indicators: list[Any] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("window_start", "window_end"):
            value = data[key]
            data[key] = None if value is None else pd.Timestamp(value).isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Incident:
        def stamp(value: object) -> pd.Timestamp | None:
            return None if value in (None, "") else pd.Timestamp(str(value)).tz_convert("UTC")

        return cls(
            name=str(data["name"]),
            summary=str(data.get("summary") or ""),
            packages={
                str(k): [str(v) for v in vs] for k, vs in (data.get("packages") or {}).items()
            },
            advisories=[str(a) for a in data.get("advisories") or []],
            window_start=stamp(data.get("window_start")),
            window_end=stamp(data.get("window_end")),
            indicators=list(data.get("indicators") or []),
        )


@dataclass
class Investigation:
    """The incident and every evidence frame; saved as Parquet so a report is reproducible."""

    incident: Incident
    advisories: pd.DataFrame
    inventory: pd.DataFrame
    exposure: pd.DataFrame
    problems: pd.DataFrame
    inputs: pd.DataFrame
    # Declared ranges (package.json and lockfile-recorded), for latent exposure.
    declared: pd.DataFrame = field(default_factory=lambda: new_frame("declared"))
    # Indicators of compromise, and the registry's facts about the affected packages.
    iocs: pd.DataFrame = field(default_factory=lambda: new_frame("iocs"))
    versions: pd.DataFrame = field(default_factory=lambda: new_frame("versions"))

    @property
    def complete(self) -> bool:
        """True when every input was read, the only state in which "not affected" may be said."""
        return self.problems.empty and not (self.inputs["status"] == "failed").any()

    def save(self, directory: str | Path) -> dict[str, Path]:
        """Write each frame as ``<name>.parquet`` and the incident as ``incident.json``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for name in FRAMES:
            path = out / f"{name}.parquet"
            getattr(self, name).to_parquet(path, index=False)
            written[name] = path
        incident_path = out / "incident.json"
        incident_path.write_text(json.dumps(self.incident.to_json(), indent=2, sort_keys=True))
        written["incident"] = incident_path
        return written

    @classmethod
    def load(cls, directory: str | Path) -> Investigation:
        """Read an investigation written by :meth:`save`, with every frame cast to its schema."""
        src = Path(directory)
        # an investigation saved before a frame existed loads it empty
        frames = {
            name: conform(pd.read_parquet(src / f"{name}.parquet"), SCHEMAS[name])
            if (src / f"{name}.parquet").is_file()
            else new_frame(name)
            for name in FRAMES
        }
        incident = Incident.from_json(json.loads((src / "incident.json").read_text()))
        return cls(incident=incident, **frames)
