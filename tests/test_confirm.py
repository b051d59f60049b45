"""The confirm step: advisory cards, versions in time, indicators, and which sources agree.

The investigation is built the way ``investigate`` builds one, by the real loaders over the real
corpus: the OSV records of ``corpus/advisories`` as a folder and (two of them) as an OSV zip,
the two September 2025 lists of ``corpus/incidents``, GitHub's advisory API and StepSecurity's
Threat Center on loopback, and the registry's packuments of ``corpus/registry`` on loopback.
GitHub serves the corpus's records in its REST shape (``tests/_advisory_shapes.py``); Threat
Center data is not public, so its two incidents are written in the documented shape around the
facts of ``reference/incidents.md`` (section 11 and 12: versions, ``npmjs.help``, the
``webhook.site`` exfiltration URL, a bundle.js SHA-256, an attacker wallet).

The expected values below were read off the records by hand; how is said next to each.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from ircore import EvidenceLog, Incident, Investigation, validate
from ircore._frames import new_frame
from ircore._investigate import gather_iocs, incident_claims
from ircore.analysis import (
    advisory_agreement,
    advisory_cards,
    agreement_matrix,
    claim_states,
    confirm_figures,
    confirm_scope,
    confirm_summary,
    describe_claim,
    indicator_table,
    release_windows,
    source_claims,
    threat_problems,
    version_status,
    version_timeline,
)
from ircore.analysis._confirm import (
    ADVISORY_CARDS,
    CLAIM_STATES,
    INDICATORS,
    RELEASE_WINDOWS,
    SOURCE_CLAIMS,
    VERSION_TIMELINE,
)
from ircore.inventory._stepsecurity import stepsecurity_client
from ircore.registry import load_versions, registry_client
from ircore.report import (
    advisory_agreement_display,
    advisory_cards_html,
    agreement_figure,
    build_report,
    card_claims,
    defang,
    defang_text,
    indicators_html,
    package_notebooks,
    release_windows_display,
    version_timeline_figure,
)
from ircore.report._render import _execute
from ircore.threats import (
    load_advisories,
    load_advisories_and_iocs,
    load_github_advisories,
    load_threat_center,
    merge_aliases,
)
from ircore.threats._ghsa import ghsa_advisory_rows, ghsa_client
from ircore.threats._iocs import analyst_iocs, extract_iocs
from tests._advisory_shapes import corpus_advisories, rest_from_osv
from tests._http_server import Server
from tests._shared import shared_path
from tests.test_ghsa import FakeAdvisories
from tests.test_report_browser import (
    ARGS,
    CHROMIUM,
    COUNT_CHARTS,
    assert_quiet,
    open_page,
    require_chromium,
    screenshot,
)
from tests.test_report_bundle import assert_offline, figures_in
from tests.test_threat_center import FakeThreatCenter

NOW = pd.Timestamp("2025-09-20T12:00:00Z")
TC_KEY_ENV = "IRCORE_CONFIRM_TC_KEY"
TC_KEY = "step_IRCORE0CONFIRM0TEST0KEY0leak0check5"
GH_TOKEN_ENV = "IRCORE_CONFIRM_GH_TOKEN"
SCRIPT = "<script>alert('tc')</script>"

#: The incident an analyst would write for the September 2025 wave: the qix phish (chalk, debug,
#: color) and the first Shai-Hulud's @ctrl/tinycolor. From reference/incidents.md: the bad
#: versions were live at 13:16 UTC on 2025-09-08; npm had unpublished the tinycolor ones on
#: 2025-09-16 (scttcper/tinycolor#257), so the window closes at the end of that day.
INCIDENT = Incident(
    name="npm, September 2025: the qix phish and Shai-Hulud",
    summary="Hijacked maintainer accounts published malicious versions.",
    packages={
        "chalk": ["5.6.1"],
        "debug": ["4.4.2"],
        "color": ["5.0.1"],
        "@ctrl/tinycolor": ["4.1.1", "4.1.2"],
    },
    advisories=["MAL-2025-46969", "MAL-2025-47141"],
    window_start=pd.Timestamp("2025-09-08T13:16:00Z"),
    window_end=pd.Timestamp("2025-09-17T00:00:00Z"),
    indicators=["domain:npmjs[.]help", "wallet:0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976"],
)
INCIDENT_ID = "incident:npm-september-2025-the-qix-phish-and-shai-hulud"
QIX_LIST = "list:npm-qix-chalk-debug-2025-09-packages"
SHAI_LIST = "list:shai-hulud-2025-09-packages"


def threat_center_incidents() -> list[dict[str, Any]]:
    """Two incidents in the shape of reference/stepsecurity-api.md, around real facts."""
    common = {
        "ecosystem": "npm",
        "severity": "CRITICAL",
        "cve": None,
        "cve_link": None,
        "updated_at": "2025-09-17T08:00:00Z",
    }
    return [
        {
            **common,
            "id": "tc-qix-chalk",
            "title": f"{SCRIPT} chalk compromised",
            "description": "Malicious versions published from the hijacked account qix.",
            "details": "# chalk\n## Indicators\n- Phishing domain: `npmjs[.]help`\n"
            "- Crypto-clipper sends funds to `0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976`\n",
            "package_name": "chalk",
            "affected_versions": "5.6.1",
            "is_active": "false",
            "incident_start_time": "2025-09-08T13:16:00Z",
            "incident_end_time": "2025-09-08T19:59:00Z",
            "created_at": "2025-09-08T15:00:00Z",
        },
        {
            **common,
            "id": "tc-shai-hulud-tinycolor",
            "title": "@ctrl/tinycolor compromised (Shai-Hulud)",
            "description": "A self-replicating worm republished the package.",
            "details": "# @ctrl/tinycolor\n## Indicators\n"
            "- Secrets are sent to hxxps://webhook[.]site/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7\n"
            "- bundle.js SHA-256 "
            "46faab8ab153fae6e80e7cca38eab363075bb524edd79e42269217a083628f09\n",
            "package_name": "@ctrl/tinycolor",
            "affected_versions": "4.1.1, 4.1.2",
            "is_active": "false",
            "incident_start_time": "2025-09-15T00:00:00Z",
            "incident_end_time": "2025-09-16T23:59:00Z",
            "created_at": "2025-09-15T20:00:00Z",
        },
    ]


def build_investigation(shared: Path, work: Path, monkeypatch: pytest.MonkeyPatch) -> Investigation:
    """The investigation of INCIDENT, every frame filled by the loaders ``investigate`` uses."""
    log = EvidenceLog()
    # OSV's all.zip layout: one <id>.json per record at the root of the archive
    archive = work / "all.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("MAL-2025-46969.json", "MAL-2025-47141.json"):
            zipped.write(shared / "corpus" / "advisories" / name, arcname=name)
    lists = [
        shared / "corpus" / "incidents" / "npm-qix-chalk-debug-2025-09-packages.csv",
        shared / "corpus" / "incidents" / "shai-hulud-2025-09-packages.csv",
    ]
    files, file_iocs = load_advisories_and_iocs(
        [shared / "corpus" / "advisories", archive, *lists], log=log
    )
    monkeypatch.setenv(TC_KEY_ENV, TC_KEY)
    monkeypatch.delenv(GH_TOKEN_ENV, raising=False)
    incidents = threat_center_incidents()
    fast = {"retries": 1, "backoff": 0.001, "backoff_max": 0.005, "timeout": 5.0}
    live = []
    with Server() as github, Server() as stepsecurity, Server() as registry:
        FakeAdvisories(github, corpus_advisories(shared)).serve()
        with ghsa_client(base_url=github.url, token_env=GH_TOKEN_ENV, **fast) as http:
            live.append(
                load_github_advisories(packages=sorted(INCIDENT.packages), log=log, client=http)
            )
        FakeThreatCenter(stepsecurity, incidents).serve()
        with stepsecurity_client(
            base_url=stepsecurity.url, key_env=TC_KEY_ENV, source="threat-center", **fast
        ) as http:
            live.append(load_threat_center("acme", log=log, client=http))
        for path in sorted((shared / "corpus" / "registry").glob("*.json")):
            data = json.loads(path.read_bytes())
            registry.json("/" + data["name"].replace("/", "%2F"), data)
        online = pd.concat(live, ignore_index=True)
        advisories = merge_aliases(
            pd.concat([incident_claims(INCIDENT), files, online], ignore_index=True)
        )
        with registry_client(base_url=registry.url, **fast) as http:
            versions = load_versions(INCIDENT.packages, log=log, client=http)
    # investigate() reads the analyst's, the files' and the live summaries' indicators; the
    # Threat Center incidents' markdown details are read here as well (their indicators are
    # there, not in the summary)
    details = [
        extract_iocs(
            incident["details"],
            advisory_id=f"threat-center:{incident['id']}",
            source="threat-center",
            evidence=f"incidents/{incident['id']}",
            packages=[incident["package_name"]],
        )
        for incident in incidents
    ]
    iocs = pd.concat([gather_iocs(INCIDENT, file_iocs, online), *details], ignore_index=True)
    return Investigation(
        incident=INCIDENT,
        advisories=advisories,
        inventory=new_frame("inventory"),
        exposure=new_frame("exposure"),
        problems=log.problems,
        inputs=log.inputs,
        iocs=validate(iocs, "iocs"),
        versions=versions,
    )


@pytest.fixture(scope="module")
def inv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Investigation]:
    shared = shared_path("corpus").parent
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield build_investigation(shared, tmp_path_factory.mktemp("confirm"), monkeypatch)


@pytest.fixture(scope="module")
def scope(inv: Investigation) -> list[str]:
    return confirm_scope(inv.advisories, inv.incident, exposure=inv.exposure)


@pytest.fixture(scope="module")
def states(inv: Investigation, scope: list[str]) -> pd.DataFrame:
    return claim_states(inv.advisories, versions=inv.versions, packages=scope)


@pytest.fixture(scope="module")
def cards(inv: Investigation, scope: list[str]) -> pd.DataFrame:
    return advisory_cards(inv.advisories, packages=scope, now=NOW)


# -- what the loaders gave -------------------------------------------------------------------


def test_the_investigation_is_whole(inv: Investigation) -> None:
    assert inv.problems.empty, inv.problems.to_dict("records")
    assert set(inv.inputs["status"]) <= {"parsed", "empty"}
    for name in ("advisories", "iocs", "versions"):
        validate(getattr(inv, name), name)
    assert set(inv.advisories["source"]) == {
        "incident",
        "osv-dir",
        "osv-zip",
        "list",
        "ghsa",
        "threat-center",
    }


# -- scope ---------------------------------------------------------------------------------------


def test_scope_is_the_incidents_packages_and_those_of_its_advisories(
    inv: Investigation, scope: list[str]
) -> None:
    assert scope == ["@ctrl/tinycolor", "chalk", "color", "debug"]
    # an incident naming only an advisory, by its id or by an alias of it
    for named in ("MAL-2025-47141", "GHSA-qjqf-7j6f-82c4"):
        only = Incident(name="tinycolor", advisories=[named])
        assert confirm_scope(inv.advisories, only) == ["@ctrl/tinycolor"]
    # naming nothing: every package some advisory claims, the corpus's old ones included
    everything = confirm_scope(inv.advisories, Incident(name="all"))
    assert {"flatmap-stream", "eslint-scope", "coa", "axios", "node-ipc"} <= set(everything)
    assert (
        len(everything)
        == inv.advisories.loc[inv.advisories["role"] == "affected", "package"].nunique()
    )


# -- advisory cards ------------------------------------------------------------------------------


def test_claims_read_as_a_person_reads_them() -> None:
    # the specs as the loaders store them (MAL-2025-47141, GHSA-hxxf-q3w9-4xgw, GitHub's REST
    # range for GHSA-qjqf-7j6f-82c4, GHSA-mh6f-8j2x-4483's flatmap-stream)
    assert describe_claim("osv_events", '[{"introduced":"0"}]') == "all versions"
    assert (
        describe_claim("osv_events", '[{"introduced":"4.1.1"},{"last_affected":"4.1.2"}]')
        == "4.1.1 – 4.1.2"
    )
    assert (
        describe_claim("osv_events", '[{"introduced":"3.7.2"},{"fixed":"4.0.0"}]')
        == "≥ 3.7.2, < 4.0.0"
    )
    assert describe_claim("npm_range", ">=4.1.1 <=4.1.2") == "4.1.1 – 4.1.2"
    assert describe_claim("npm_range", ">=3.3.6 <4.0.0") == "≥ 3.3.6, < 4.0.0"
    assert describe_claim("npm_range", "*") == "all versions"
    assert describe_claim("npm_range", "^1.2.3 || 2.x") == "^1.2.3 || 2.x"
    assert describe_claim("exact", "5.6.1") == "5.6.1"
    assert describe_claim("osv_events", "not json") == "not json"


def test_one_card_per_advisory_with_what_every_source_says(cards: pd.DataFrame) -> None:
    validate(cards, ADVISORY_CARDS)
    assert list(cards["advisory_id"]) == [
        "MAL-2025-46969",
        "MAL-2025-46985",
        "MAL-2025-47141",
        INCIDENT_ID,
        QIX_LIST,
        SHAI_LIST,
        "threat-center:tc-qix-chalk",
        "threat-center:tc-shai-hulud-tinycolor",
    ]
    card = cards.set_index("advisory_id")
    # MAL records carry their GHSA aliases (and color's repository advisory) as one card
    assert card.at["MAL-2025-46969", "aliases"] == "GHSA-2v46-p5h4-248w"
    assert card.at["MAL-2025-46985", "aliases"] == "GHSA-j8fv-6x8p-p766,GHSA-qrmh-qg46-72pp"
    assert card.at["MAL-2025-46969", "sources"] == "osv-dir, osv-zip, ghsa"
    assert card.at["MAL-2025-46985", "sources"] == "osv-dir, ghsa"  # not in the zip
    # malware is its own class, never "unknown severity"
    assert set(card["label"]) == {"malware"} and set(card["severity"]) == {""}
    # published: the record's; modified: the latest of OSV (2025-09-12T01:13:34Z) and GitHub's
    # updated_at (its last ghsa-malware import, 2025-09-10T17:52:52Z)
    assert card.at["MAL-2025-46969", "published"] == pd.Timestamp("2025-09-08T17:11:19Z")
    assert card.at["MAL-2025-46969", "modified"] == pd.Timestamp("2025-09-12T01:13:34Z")
    assert card.at["MAL-2025-46969", "age_days"] == 8  # to NOW, 2025-09-20 12:00
    assert card.at["MAL-2025-47141", "modified"] == pd.Timestamp("2025-09-17T00:29:08Z")
    assert card.at["MAL-2025-47141", "age_days"] == 3
    # the link GitHub gives (OSV records give none), and Threat Center's dashboard page
    assert card.at["MAL-2025-47141", "url"] == "https://github.com/advisories/GHSA-qjqf-7j6f-82c4"
    assert card.at["threat-center:tc-qix-chalk", "url"] == (
        "https://app.stepsecurity.io/github/acme/threat-center/incidents/tc-qix-chalk"
    )
    assert not card["url_derived"].any()
    # only MAL-2025-47141's sources disagree: "all versions" beside 4.1.1 – 4.1.2
    assert list(card.index[card["claims_differ"]]) == ["MAL-2025-47141"]
    # lists are shown for the incident's packages, the rest counted (26 and 215 packages read)
    assert card.at[QIX_LIST, "packages"] == "chalk, color, debug"
    assert card.at[QIX_LIST, "other_packages"] == 23
    assert card.at[SHAI_LIST, "other_packages"] == 214
    assert card.at[INCIDENT_ID, "packages"] == "@ctrl/tinycolor, chalk, color, debug"
    assert pd.isna(card.at[INCIDENT_ID, "published"]) and pd.isna(card.at[INCIDENT_ID, "age_days"])
    # the lists' age is their file's (a list has no date of its own)
    listed = card.at[QIX_LIST, "modified"]
    assert card.at[QIX_LIST, "age_days"] == (NOW - listed).days
    assert card["standing"].all() and card["withdrawn"].isna().all()


def test_a_record_alone_links_to_its_osv_page(shared: Path) -> None:
    folder = shared / "corpus" / "advisories"
    alone = advisory_cards(load_advisories(folder / "MAL-2025-47141.json"), now=NOW)
    assert alone["url"].tolist() == ["https://osv.dev/vulnerability/MAL-2025-47141"]
    assert alone["url_derived"].tolist() == [True]


def test_claims_written_differently_but_meaning_the_same_agree(shared: Path) -> None:
    # event-stream in GHSA-mh6f-8j2x-4483: the OSV file says 3.3.6 and introduced 3.3.6 /
    # fixed 4.0.0; GitHub's REST answer says ">= 3.3.6, < 4.0.0". Same versions.
    path = shared / "corpus" / "advisories" / "GHSA-mh6f-8j2x-4483.json"
    record = json.loads(path.read_bytes())
    rest = ghsa_advisory_rows(rest_from_osv(record), evidence="api").rows
    both = pd.concat([load_advisories(path), new_frame("advisories", rest)], ignore_index=True)
    card = advisory_cards(both, now=NOW)
    assert card["sources"].tolist() == ["osv-dir, ghsa"]
    said = source_claims(both, packages=["event-stream"])
    assert sorted(set(said["claim"])) == ["3.3.6", "≥ 3.3.6, < 4.0.0"]
    assert card["claims_differ"].tolist() == [False]


def test_both_origins_of_mal_2025_47141_are_kept(inv: Investigation, scope: list[str]) -> None:
    claims = validate(source_claims(inv.advisories, packages=scope), SOURCE_CLAIMS)
    mine = claims[(claims["advisory_id"] == "MAL-2025-47141") & (claims["source"] == "osv-dir")]
    said = list(zip(mine["role"], mine["origin"], mine["claim"], strict=True))
    assert said == [
        ("affected", "osv:MAL-2025-47141", "all versions"),
        ("affected", "osv:MAL-2025-47141", "4.1.1 – 4.1.2"),
        (
            "origin",
            "ghsa-malware:GHSA-qjqf-7j6f-82c4@2025-09-16T00:34:25.64566463Z",
            "all versions",
        ),
        (
            "origin",
            "ghsa-malware:GHSA-qjqf-7j6f-82c4@2025-09-17T00:07:09.370600472Z",
            "4.1.1 – 4.1.2",
        ),
    ]
    github = claims[(claims["advisory_id"] == "MAL-2025-47141") & (claims["source"] == "ghsa")]
    assert list(github["claim"]) == ["4.1.1 – 4.1.2"]
    assert list(github["origin"]) == ["ghsa:GHSA-qjqf-7j6f-82c4"]
    # the card groups a feed's re-imports and says when each claim was made
    rows = card_claims(claims[claims["advisory_id"] == "MAL-2025-47141"])
    assert rows.values.tolist() == [
        [
            "osv:MAL-2025-47141",
            "claims (matched)",
            "all versions, 4.1.1 – 4.1.2",
            "osv-dir, osv-zip",
            "published 2025-09-15 23:42 UTC; changed 2025-09-17 00:29 UTC",
        ],
        [
            "ghsa-malware:GHSA-qjqf-7j6f-82c4",
            "a feed's claim (shown, not matched)",
            "all versions",
            "osv-dir, osv-zip",
            "imported 2025-09-16 00:34 UTC",
        ],
        [
            "ghsa-malware:GHSA-qjqf-7j6f-82c4",
            "a feed's claim (shown, not matched)",
            "4.1.1 – 4.1.2",
            "osv-dir, osv-zip",
            "imported 2025-09-17 00:07 UTC",
        ],
        [
            "ghsa:GHSA-qjqf-7j6f-82c4",
            "claims (matched)",
            "4.1.1 – 4.1.2",
            "ghsa",
            "published 2025-09-15 23:42 UTC; changed 2025-09-16 01:14 UTC",
        ],
    ]
    # chalk's record was imported from GitHub four times with the same claim: one row
    chalk = card_claims(claims[claims["advisory_id"] == "MAL-2025-46969"])
    assert chalk["as of"].tolist()[1] == (
        "imported 4 times, 2025-09-09 00:35 UTC to 2025-09-12 00:33 UTC"
    )


def test_cards_render_untrusted_text_as_text(cards: pd.DataFrame, inv: Investigation) -> None:
    claims = source_claims(inv.advisories)
    page = advisory_cards_html(cards, claims)
    # the Threat Center title holds a script tag: it is shown, never run
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(&#x27;tc&#x27;)&lt;/script&gt; chalk compromised" in page
    assert page.count("<article") == len(cards) == 8
    assert page.count(">always blocking<") == 8
    assert 'href="https://github.com/advisories/GHSA-qjqf-7j6f-82c4"' in page
    # only http(s) links are links
    odd = cards.assign(url=["javascript:alert(1)", *list(cards["url"].iloc[1:])])
    shown = advisory_cards_html(odd, claims)
    assert 'href="javascript' not in shown and "javascript:alert(1)" in shown
    assert advisory_cards_html(cards.head(0), claims).count("<article") == 0


# -- which source claims what --------------------------------------------------------------------


def test_which_sources_agree_on_which_versions(states: pd.DataFrame) -> None:
    validate(states, CLAIM_STATES)
    # 40 versions of @ctrl/tinycolor in its packument, none of them 4.1.1 or 4.1.2 (npm pulled
    # them); MAL-2025-47141's `introduced: 0` claims all 42; the others claim the two
    assert states.groupby("package")["version"].nunique().to_dict() == {
        "@ctrl/tinycolor": 42,
        "chalk": 1,
        "color": 1,
        "debug": 1,
    }
    matrix = agreement_matrix(states)
    sources = ["osv-dir", "osv-zip", "ghsa", "threat-center", "list", "incident"]
    assert list(matrix.columns) == ["row", "package", "versions", "count", *sources, "status"]
    c, n, o = "claimed", "not claimed", "not covered"
    assert matrix[["row", *sources, "status"]].values.tolist() == [
        ["@ctrl/tinycolor (40 versions)", c, c, n, n, n, n, "disputed"],
        ["@ctrl/tinycolor@4.1.1, 4.1.2", c, c, c, c, c, c, "compromised"],
        ["chalk@5.6.1", c, c, c, c, c, c, "compromised"],
        # MAL-2025-46985 is not in the zip; no Threat Center incident names color
        ["color@5.0.1", c, o, c, o, c, c, "compromised"],
        # no OSV record for debug in the corpus; GitHub answered nothing for it
        ["debug@4.4.2", o, o, o, o, c, c, "compromised"],
    ]
    assert matrix.at[0, "versions"].split(", ")[:3] == ["1.2.0", "2.0.0", "2.2.0"]
    assert "4.1.0" in matrix.at[0, "versions"] and "4.1.1" not in matrix.at[0, "versions"]
    assert len(agreement_matrix(states, group=False)) == 45
    # who claims chalk@5.6.1, by advisory id
    chalk = states[states["package"] == "chalk"].set_index("source")["advisory_ids"]
    assert chalk["list"] == QIX_LIST and chalk["incident"] == INCIDENT_ID
    assert chalk["osv-dir"] == chalk["ghsa"] == "MAL-2025-46969"


def test_how_far_each_source_corroborates_each_advisory(states: pd.DataFrame) -> None:
    by = advisory_agreement(states)
    cell = {(a, s): (st, int(c), int(n)) for a, s, st, c, n in by.itertuples(index=False)}
    assert cell["MAL-2025-47141", "osv-dir"] == ("claimed", 42, 42)
    assert cell["MAL-2025-47141", "ghsa"] == ("not claimed", 2, 42)
    assert cell["MAL-2025-46985", "osv-zip"] == ("not covered", 0, 1)
    # the analyst's five versions: OSV's folder has all but debug's, the zip chalk's and
    # tinycolor's
    assert cell[INCIDENT_ID, "osv-dir"] == ("not claimed", 4, 5)
    assert cell[INCIDENT_ID, "osv-zip"] == ("not claimed", 3, 5)
    assert cell[QIX_LIST, "list"] == ("claimed", 3, 3)
    table = advisory_agreement_display(states).set_index("advisory")
    assert table.at["MAL-2025-47141", "ghsa"] == "2 of 42"
    assert table.at["MAL-2025-46985", "osv-zip"] == "—"


# -- versions in time ----------------------------------------------------------------------------


def test_every_version_in_publish_order_with_its_standing(
    inv: Investigation, states: pd.DataFrame, scope: list[str]
) -> None:
    timeline = validate(version_timeline(inv.versions, states, packages=scope), VERSION_TIMELINE)
    # every packument version, and each named compromised one the registry no longer lists
    assert timeline.groupby("name").size().to_dict() == {
        "@ctrl/tinycolor": 42,
        "chalk": 46,
        "color": 42,
        "debug": 78,
    }
    bad = timeline[timeline["status"] == "compromised"]
    assert sorted(zip(bad["name"], bad["version"], strict=True)) == [
        ("@ctrl/tinycolor", "4.1.1"),
        ("@ctrl/tinycolor", "4.1.2"),
        ("chalk", "5.6.1"),
        ("color", "5.0.1"),
        ("debug", "4.4.2"),
    ]
    # the registry keeps neither the versions nor their times
    assert not bad["in_registry"].any() and bad["published"].isna().all()
    assert (timeline["status"] == "disputed").sum() == 40
    chalk = timeline[timeline["name"] == "chalk"]
    assert chalk["published"].dropna().is_monotonic_increasing
    assert chalk.iloc[-1]["version"] == "5.6.1"  # no time: last
    assert bad.set_index("version").at["5.6.1", "claimed_by"] == (
        "osv-dir, osv-zip, ghsa, threat-center, list, incident"
    )


def test_where_to_roll_back_and_forward(
    inv: Investigation, states: pd.DataFrame, scope: list[str]
) -> None:
    timeline = version_timeline(inv.versions, states, packages=scope)
    windows = validate(
        release_windows(timeline, start=INCIDENT.window_start), RELEASE_WINDOWS
    ).set_index("name")
    # read off the packuments: the highest version published before 2025-09-08 13:16 UTC,
    # and the lowest above the bad one published after it
    expected = {
        "@ctrl/tinycolor": (
            "4.1.0",
            "2024-12-04T21:37:00.652Z",
            "4.2.0",
            "2025-09-20T07:22:59.645Z",
        ),
        "chalk": ("5.6.0", "2025-08-17T21:44:26.811Z", "5.6.2", "2025-09-08T15:04:26.266Z"),
        "color": ("5.0.0", "2025-05-15T08:57:20.362Z", "5.0.2", "2025-09-14T04:21:20.993Z"),
        "debug": ("4.4.1", "2025-05-13T22:55:09.883Z", "4.4.3", "2025-09-13T19:28:59.839Z"),
    }
    for name, (before, before_at, after, after_at) in expected.items():
        row = windows.loc[name]
        assert row["last_good_before"] == before
        assert row["last_good_before_published"] == pd.Timestamp(before_at)
        assert row["first_clean_after"] == after
        assert row["first_clean_after_published"] == pd.Timestamp(after_at)
    assert windows.at["@ctrl/tinycolor", "compromised"] == "4.1.1, 4.1.2"
    assert windows.at["@ctrl/tinycolor", "not_in_registry"] == "4.1.1, 4.1.2"
    assert windows.at["@ctrl/tinycolor", "disputed"] == 40
    assert windows["disputed"].drop("@ctrl/tinycolor").eq(0).all()
    shown = release_windows_display(windows.reset_index()).set_index("package")
    assert shown.at["chalk", "roll forward to"] == "5.6.2 (published 2025-09-08 15:04 UTC)"


def test_the_time_axis(inv: Investigation, states: pd.DataFrame, scope: list[str]) -> None:
    timeline = version_timeline(inv.versions, states, packages=scope)
    fig = version_timeline_figure(
        timeline, window_start=INCIDENT.window_start, window_end=INCIDENT.window_end
    )
    traces = {t.name: t for t in fig.data}
    assert list(traces) == ["not claimed", "disputed", "publish time unknown"]
    assert len(traces["disputed"].x) == 40
    assert len(traces["not claimed"].x) == 45 + 41 + 77  # chalk, color, debug: every other
    unknown = traces["publish time unknown"]
    # one marker per package, at the window's start, naming its versions
    assert list(unknown.y) == ["@ctrl/tinycolor", "chalk", "color", "debug"]
    assert set(unknown.x) == {"2025-09-08 13:16:00"}
    assert list(unknown.text) == ["4.1.1, 4.1.2", "5.6.1", "5.0.1", "4.4.2"]
    [window] = fig.layout.shapes
    assert (window.x0, window.x1) == ("2025-09-08 13:16:00", "2025-09-17 00:00:00")
    # the axis opens on the window, 60 days either side; double-click shows every version
    assert tuple(fig.layout.xaxis.range) == ("2025-07-10 13:16:00", "2025-11-16 00:00:00")
    notes = " ".join(a.text for a in fig.layout.annotations).replace("<br>", " ")
    assert "@ctrl/tinycolor@4.1.2, chalk@5.6.1, color@5.0.1, debug@4.4.2" in notes
    # without a window nothing is placed where it was not published
    bare = version_timeline_figure(timeline)
    assert "publish time unknown" not in [t.name for t in bare.data]
    assert not bare.layout.shapes and bare.layout.xaxis.range is None


def test_the_agreement_heatmap(states: pd.DataFrame) -> None:
    fig = agreement_figure(states)
    [heat] = fig.data
    assert list(heat.x) == ["osv-dir", "osv-zip", "ghsa", "threat-center", "list", "incident"]
    assert next(iter(heat.y)) == "@ctrl/tinycolor (40 versions)"
    # claimed 2, not claimed 1, not covered 0
    assert [list(r) for r in heat.z] == [
        [2, 2, 1, 1, 1, 1],
        [2, 2, 2, 2, 2, 2],
        [2, 2, 2, 2, 2, 2],
        [2, 0, 2, 0, 2, 2],
        [0, 0, 0, 0, 2, 2],
    ]
    one_per_version = agreement_figure(states, max_rows=3)
    assert "3 of 5 rows" in one_per_version.layout.title.text


# -- indicators ----------------------------------------------------------------------------------


def test_indicators_of_the_incidents_advisories(inv: Investigation, cards: pd.DataFrame) -> None:
    table = validate(
        indicator_table(inv.iocs, advisories=inv.advisories, advisory_ids=cards["advisory_id"]),
        INDICATORS,
    )
    got = [
        (t, v, None if pd.isna(p) else int(p), c)
        for t, v, p, c in zip(
            table["ioc_type"], table["value"], table["port"], table["confidence"], strict=True
        )
    ]
    webhook = "https://webhook.site/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7"
    bundle = "46faab8ab153fae6e80e7cca38eab363075bb524edd79e42269217a083628f09"
    assert got == [
        ("url", webhook, 443, "extracted"),
        # the analyst wrote it defanged in the spec; Threat Center's details name it too
        ("domain", "npmjs.help", None, "analyst, extracted"),
        ("domain", "webhook.site", None, "extracted"),
        ("sha256", bundle, None, "extracted"),
        ("file_name", "bundle.js", None, "extracted"),
        ("wallet", "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976", None, "analyst, extracted"),
    ]
    npmjs = table.set_index("value").loc["npmjs.help"]
    assert npmjs["advisory_ids"] == f"{INCIDENT_ID}, threat-center:tc-qix-chalk"
    assert npmjs["sources"] == "threat-center, incident"
    # axios's C2 (MAL-2026-2307) is an indicator of another incident: not listed here
    assert "sfrclak.com" not in set(table["value"])
    everything = indicator_table(inv.iocs, advisories=inv.advisories)
    assert {"sfrclak.com", "142.11.206.73", "http://sfrclak.com:8000/6202033"} <= set(
        everything["value"]
    )
    # the write-ups the records cite are apart
    cited = indicator_table(
        inv.iocs, advisories=inv.advisories, advisory_ids=cards["advisory_id"], references=True
    )
    assert set(cited["ioc_type"]) == {"reference"}
    assert "https://github.com/advisories/GHSA-qjqf-7j6f-82c4" in set(cited["value"])


def test_an_indicator_of_a_merged_id_is_listed_under_the_advisory(inv: Investigation) -> None:
    found = analyst_iocs(["domain:npmjs.help"], advisory_id="GHSA-qjqf-7j6f-82c4")
    table = indicator_table(found, advisories=inv.advisories)
    assert table["advisory_ids"].tolist() == ["MAL-2025-47141"]


def test_indicators_are_shown_defanged(inv: Investigation, cards: pd.DataFrame) -> None:
    table = indicator_table(inv.iocs, advisories=inv.advisories, advisory_ids=cards["advisory_id"])
    page = indicators_html(table)
    for shown in (
        "hxxps[://]webhook[.]site/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7",
        "npmjs[.]help",
        "webhook[.]site",
    ):
        assert html_text(page).count(shown) >= 1, shown
    text = html_text(page)
    for live in ("npmjs.help", "webhook.site", "https://", "http://"):
        assert live not in text, live
    assert "shown defanged" in text and "iocs.parquet" in text
    # not reachable, so not changed
    assert "46faab8ab153fae6e80e7cca38eab363075bb524edd79e42269217a083628f09" in text
    assert "bundle.js" in text
    assert defang("142.11.206.73", "ip") == "142[.]11[.]206[.]73"
    assert defang("http://sfrclak.com:8000/6202033", "url") == "hxxp[://]sfrclak[.]com:8000/6202033"
    assert defang("attacker@evil.example", "email") == "attacker[@]evil[.]example"
    assert defang(defang("npmjs.help", "domain"), "domain") == "npmjs[.]help"
    assert defang_text("see https://a.example/x and npmjs.help", [("domain", "npmjs.help")]) == (
        "see hxxps[://]a[.]example/x and npmjs[.]help"
    )


def html_text(markup: str) -> str:
    """The text a reader sees: tags dropped, entities decoded."""
    import html as htmlmod

    return htmlmod.unescape(re.sub(r"<[^>]+>", " ", markup))


# -- the headline --------------------------------------------------------------------------------


def test_summary(inv: Investigation, cards: pd.DataFrame, states: pd.DataFrame) -> None:
    timeline = version_timeline(inv.versions, states, packages=list(INCIDENT.packages))
    indicators = indicator_table(
        inv.iocs, advisories=inv.advisories, advisory_ids=cards["advisory_id"]
    )
    summary = confirm_summary(
        cards,
        states,
        timeline=timeline,
        indicators=indicators,
        problems=inv.problems,
        inputs=inv.inputs,
    )
    assert summary["verdict"] == (
        "Confirmed: 5 versions of 4 packages claimed compromised by every source that covers "
        "them (6 sources read)."
    )
    assert summary["verdict_level"] == "affected"
    assert confirm_figures(summary) == {
        "Advisories": 8,
        "Compromised versions": 5,
        "Disputed versions": 40,
        "No longer in the registry": 5,
        "Indicators": 6,
    }
    # a registry answer that could not be read is said, whatever else was found
    failed = pd.concat(
        [
            inv.problems,
            new_frame(
                "problems",
                [{"source": "registry", "evidence": "x", "kind": "http", "message": "500"}],
            ),
        ]
    )
    lockfile = new_frame(
        "problems",
        [{"source": "git", "evidence": "repo@abc:package-lock.json", "kind": "truncated"}],
    )
    failed = pd.concat([failed, lockfile], ignore_index=True)
    # the blast radius's unread lockfile is not this section's
    assert threat_problems(failed)["source"].tolist() == ["registry"]
    worse = confirm_summary(cards, states, problems=failed, inputs=inv.inputs)
    assert (
        worse["unread"] == 1
        and "1 threat or registry input could not be read" in (worse["verdict"])
    )


def test_nothing_to_confirm() -> None:
    empty = new_frame("advisories")
    assert confirm_scope(empty, Incident(name="x")) == []
    states = claim_states(empty, versions=new_frame("versions"))
    validate(states, CLAIM_STATES)
    validate(advisory_cards(empty), ADVISORY_CARDS)
    validate(version_timeline(new_frame("versions"), states), VERSION_TIMELINE)
    validate(release_windows(version_timeline(new_frame("versions"), states)), RELEASE_WINDOWS)
    validate(indicator_table(new_frame("iocs")), INDICATORS)
    summary = confirm_summary(advisory_cards(empty), states)
    assert summary["verdict_level"] == "inconclusive"
    assert summary["verdict"].startswith("Not confirmed")
    for fig in (
        agreement_figure(states),
        version_timeline_figure(version_timeline(new_frame("versions"), states)),
    ):
        assert not fig.data and fig.layout.annotations
    assert agreement_matrix(states).empty and version_status(states).empty


def test_without_the_registry_the_time_axis_says_so(inv: Investigation, scope: list[str]) -> None:
    states = claim_states(inv.advisories, packages=scope)  # ranges expand over no versions
    assert len(agreement_matrix(states, group=False)) == 5  # the exact claims only
    timeline = version_timeline(new_frame("versions"), states, packages=scope)
    assert len(timeline) == 5 and timeline["in_registry"].isna().all()
    fig = version_timeline_figure(timeline, window_start=INCIDENT.window_start)
    assert not fig.data
    assert "could not be read" in fig.layout.annotations[0].text
    # with nothing from the registry, "none pulled" is not claimed: the tile is left out
    summary = confirm_summary(advisory_cards(inv.advisories), states, timeline=timeline)
    assert summary["gone"] is None
    assert "No longer in the registry" not in confirm_figures(summary)


def test_the_incident_spec_alone_does_not_confirm_itself() -> None:
    from ircore._investigate import incident_claims

    claims = incident_claims(Incident(name="x", packages={"chalk": ["5.6.1"]}))
    states = claim_states(claims, versions=new_frame("versions"))
    summary = confirm_summary(advisory_cards(claims), states)
    assert summary["sources"] == ["incident"]
    assert summary["verdict_level"] == "inconclusive"
    assert summary["verdict"].startswith("Not confirmed: only the incident spec claims 1 version")


def test_cards_defang_what_the_indicator_table_lists(
    inv: Investigation, cards: pd.DataFrame
) -> None:
    table = indicator_table(inv.iocs, advisories=inv.advisories, advisory_ids=cards["advisory_id"])
    claims = source_claims(inv.advisories)
    # the qix list's provenance comment names the phishing domain
    assert "npmjs.help" in html_text(advisory_cards_html(cards, claims))
    text = html_text(advisory_cards_html(cards, claims, indicators=table))
    assert "npmjs.help" not in text and "(npmjs[.]help)" in text


# -- the notebook, the bundle, the browser -------------------------------------------------------

NOTEBOOK = Path(__file__).resolve().parents[1] / "ircore" / "notebooks" / "confirm.ipynb"


def _errors(notebook: Path) -> list[str]:
    nb = nbformat.read(notebook, as_version=4)
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def _html_outputs(notebook: Path) -> str:
    nb = nbformat.read(notebook, as_version=4)
    return "\n".join(
        o["data"]["text/html"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    )


def test_notebook_is_committed_clean() -> None:
    assert package_notebooks()["confirm"] == NOTEBOOK
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None
        assert len(cell.source.splitlines()) <= 15
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# Confirm")
    [params] = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    for name in ("evidence", "incident", "sources", "org_name"):
        assert f"\n{name} = " in f"\n{params.source}", name
    assert "open_investigation" in code[1].source
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.ircore.description


def test_report_sections_put_confirm_first() -> None:
    names = list(package_notebooks())
    assert names.index("confirm") < names.index("blast_radius")


@pytest.mark.slow
def test_notebook_runs_on_a_saved_investigation(inv: Investigation, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    inv.save(evidence)
    target = tmp_path / "confirm.ipynb"
    parameters = {"evidence": str(evidence), "org_name": "acme"}
    _execute(NOTEBOOK, target, cwd=tmp_path, parameters=parameters, timeout=300)
    assert _errors(target) == []
    assert figures_in(target) == 2  # the time axis and the agreement heatmap
    page = _html_outputs(target)
    text = html_text(page)
    assert "Confirmed: 5 versions of 4 packages" in text
    assert page.count("<article") == 8
    assert "&lt;script&gt;alert(&#x27;tc&#x27;)&lt;/script&gt;" in page
    assert "<script>alert(" not in page
    assert "hxxps[://]webhook[.]site/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7" in text
    assert "npmjs.help" not in text and "webhook.site" not in text
    assert "5.6.2 (published 2025-09-08 15:04 UTC)" in text
    assert "2 of 42" in text


@pytest.mark.slow
def test_notebook_runs_with_nothing_to_confirm(tmp_path: Path) -> None:
    empty = Investigation(
        incident=Incident(name="nothing yet"),
        advisories=new_frame("advisories"),
        inventory=new_frame("inventory"),
        exposure=new_frame("exposure"),
        problems=new_frame("problems"),
        inputs=new_frame("inputs"),
    )
    empty.save(tmp_path / "evidence")
    target = tmp_path / "confirm.ipynb"
    _execute(NOTEBOOK, target, cwd=tmp_path, parameters={"evidence": "evidence"}, timeout=300)
    assert _errors(target) == []
    text = html_text(_html_outputs(target))
    assert "Not confirmed: no source claims a version" in text
    assert "No advisory names a package of this incident." in text


@pytest.fixture(scope="module")
def bundle(inv: Investigation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("confirm-bundle") / "report"
    build_report(inv, out=out, parameters={"org_name": "acme"})
    return out


@pytest.mark.slow
def test_the_bundle_opens_with_confirm(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert [n["name"] for n in manifest["notebooks"]] == ["confirm", "blast_radius"]
    index = (bundle / "index.html").read_text()
    assert index.index('href="confirm.html"') < index.index('href="blast_radius.html"')
    assert ">Confirm: is it real, which versions, what do we look for?<" in index
    section = (bundle / "confirm.html").read_text()
    assert_offline(section)
    assert section.count(get_plotlyjs()) == 1 and section.count("Plotly.newPlot(") == 2
    assert "<script>alert(" not in section
    assert "open_investigation" not in section  # no code in a shared report


PHONE = 390
PHONE_LAYOUT = """() => ({
  pageScrolls: document.documentElement.scrollWidth > window.innerWidth,
  cardsOutside: Array.from(document.querySelectorAll('.ircore-advisory'))
    .filter(c => c.getBoundingClientRect().right > window.innerWidth).length,
  idsOutside: Array.from(document.querySelectorAll('.ircore-advisory header code.id'))
    .filter(c => c.getBoundingClientRect().right
      > c.closest('.ircore-advisory').getBoundingClientRect().right)
    .map(c => c.textContent),
})"""


@pytest.fixture(scope="module")
def browser(bundle: Path) -> Iterator[Any]:
    require_chromium()
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, "--headless"])
        yield chromium
        chromium.close()


@pytest.mark.slow
@pytest.mark.browser
def test_the_confirm_page_in_chromium(browser: Any, bundle: Path, tmp_path: Path) -> None:
    page, watch = open_page(browser, (bundle / "confirm.html").as_uri())
    page.wait_for_function(f"() => ({COUNT_CHARTS})() >= 2", timeout=20_000)
    page.wait_for_timeout(500)  # let late errors surface
    assert page.evaluate(COUNT_CHARTS) == 2
    text = page.evaluate("() => document.body.innerText")
    assert "Confirmed: 5 versions of 4 packages" in text
    assert f"{SCRIPT} chalk compromised" in text  # shown as text, never run
    assert "hxxps[://]webhook[.]site/" in text and "npmjs[.]help" in text
    assert "npmjs.help" not in text and "webhook.site" not in text
    # the charts draw what they should: markers on the time axis, the matrix's rows
    charts = page.evaluate(
        "() => Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".map(el => el.textContent).join(' ')"
    )
    assert "incident window" in charts and "@ctrl/tinycolor (40 versions)" in charts
    assert page.evaluate("() => document.querySelectorAll('.heatmaplayer image').length") == 1
    markers = page.evaluate("() => document.querySelectorAll('.scatterlayer .point').length")
    assert markers >= 4 + 40  # four unknown-time crosses, the disputed versions, and more
    # links leave only when clicked, never by themselves
    links = page.evaluate("() => Array.from(document.links).map(a => a.href)")
    assert "https://github.com/advisories/GHSA-qjqf-7j6f-82c4" in links
    assert all(link.startswith(("https://", "file://")) for link in links)
    screenshot(page, "confirm.png", tmp_path)
    assert_quiet(watch)
    page.close()
    page, watch = open_page(browser, (bundle / "index.html").as_uri())
    page.click("text=Confirm: is it real")
    page.wait_for_load_state("load")
    assert page.url.endswith("/confirm.html")
    page.wait_for_function(f"() => ({COUNT_CHARTS})() >= 2", timeout=20_000)
    assert_quiet(watch)
    page.close()
    # on a phone: nothing pushes the page sideways; wide tables scroll in their own box
    phone = browser.new_page(viewport={"width": PHONE, "height": 844})
    phone.goto((bundle / "confirm.html").as_uri(), wait_until="load")
    phone.wait_for_function(f"() => ({COUNT_CHARTS})() >= 2", timeout=20_000)
    layout = phone.evaluate(PHONE_LAYOUT)
    screenshot(phone, "confirm-phone.png", tmp_path)
    phone.close()
    assert layout == {"pageScrolls": False, "cardsOutside": 0, "idsOutside": []}
