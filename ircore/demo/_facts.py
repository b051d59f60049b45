"""Public facts of the 2025-09-08 chalk/debug ("qix") compromise that the demo org is built around.

Sources are summarised in the project's incident notes (section 11): the 18 versions published
from the hijacked ``qix`` npm account, ``color`` 5.0.1 from the same campaign, the GHSA ids named in
github/advisory-database#6103, the OSV MAL ids that are known, and the timeline. Everything the
generator invents on top of these (DEMO advisory ids, publish times of records whose real time is
unknown) is marked as such where it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

UTC = timezone.utc

#: Malicious versions live on the registry (start) until the maintainers published over them
#: (end). npm removed the tarballs later that evening; a lockfile resolved inside the window can
#: be committed hours after it.
WINDOW_START = datetime(2025, 9, 8, 13, 16, tzinfo=UTC)
WINDOW_END = datetime(2025, 9, 8, 15, 15, tzinfo=UTC)

INCIDENT_NAME = "npm-qix-chalk-debug-2025-09-08"
INCIDENT_SUMMARY = (
    "Phished npm maintainer account 'qix' published crypto-clipper versions of chalk, debug and "
    "16 related packages on 2025-09-08 (plus color 5.0.1 from the same campaign). The payload runs "
    "in browser bundles and rewrites wallet addresses; there is no install script."
)


@dataclass(frozen=True)
class Compromise:
    """One malicious release and what is publicly known about its advisories.

    Attributes
    ----------
    name : str
        npm package name.
    version : str
        The malicious version.
    osv_id : str
        The OSV MAL id where known from the incident notes, otherwise a ``DEMO-`` id.
    aliases : tuple of str
        GHSA ids known from the incident notes (empty when unknown; none are invented).
    published : str
        OSV ``published`` time; real where known, otherwise a demo value after the window.
    """

    name: str
    version: str
    osv_id: str
    aliases: tuple[str, ...] = ()
    published: str = "2025-09-08T19:30:00Z"


#: The qix account's 18 releases plus color 5.0.1, in the order of the published list.
COMPROMISES: tuple[Compromise, ...] = (
    Compromise("ansi-regex", "6.2.1", "DEMO-2025-0001"),
    Compromise("ansi-styles", "6.2.2", "DEMO-2025-0002", ("GHSA-p5rr-crjh-x7gr",)),
    Compromise("backslash", "0.2.1", "DEMO-2025-0003"),
    Compromise(
        "chalk", "5.6.1", "MAL-2025-46969", ("GHSA-2v46-p5h4-248w",), "2025-09-08T17:11:19Z"
    ),
    Compromise("chalk-template", "1.1.1", "DEMO-2025-0004"),
    Compromise(
        "color",
        "5.0.1",
        "MAL-2025-46985",
        ("GHSA-j8fv-6x8p-p766", "GHSA-qrmh-qg46-72pp"),
        "2025-09-08T20:48:50Z",
    ),
    Compromise("color-convert", "3.1.1", "DEMO-2025-0005"),
    Compromise("color-name", "2.0.1", "DEMO-2025-0006"),
    Compromise("color-string", "2.1.1", "DEMO-2025-0007"),
    Compromise(
        "debug", "4.4.2", "DEMO-2025-0008", ("GHSA-8mgj-vmr8-frr6",), "2025-09-08T14:26:51Z"
    ),
    Compromise("error-ex", "1.3.3", "DEMO-2025-0009"),
    Compromise("has-ansi", "6.0.1", "DEMO-2025-0010"),
    Compromise("is-arrayish", "0.3.3", "DEMO-2025-0011"),
    Compromise("simple-swizzle", "0.2.3", "DEMO-2025-0012"),
    Compromise("slice-ansi", "7.1.1", "DEMO-2025-0013"),
    Compromise("strip-ansi", "7.1.1", "DEMO-2025-0014", ("GHSA-vfjc-p7x3-q864",)),
    Compromise("supports-color", "10.2.1", "DEMO-2025-0015"),
    Compromise("supports-hyperlinks", "4.1.1", "DEMO-2025-0016"),
    Compromise("wrap-ansi", "9.0.1", "DEMO-2025-0017"),
)

#: name -> malicious version, for planting and scanning.
BAD: dict[str, str] = {c.name: c.version for c in COMPROMISES}

#: Payload indicators quoted in the advisories' details.
IOCS: tuple[str, ...] = (
    "npmjs.help",
    "checkethereumw",
    "0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976",
)


def iso(moment: datetime) -> str:
    """Format an aware datetime as UTC ISO-8601 with a ``Z`` suffix and second precision.

    Parameters
    ----------
    moment : datetime
        A timezone-aware time.

    Returns
    -------
    str
        For example ``2025-09-08T13:16:00Z``.
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
