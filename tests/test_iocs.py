"""Indicators of compromise: extracted from the real advisories and incident notes, structured
fields of real OSV records, analyst input; defanged and markdown forms; adversarial input.

The expected lists were written by reading the texts (``../shared/corpus/advisories/*.json`` and
``../shared/reference/incidents.md``); each comment says where in the text the indicator is.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ircore import ConfigError, validate
from ircore.threats._iocs import (
    _CODE_OBJECTS,
    IOC_TYPES,
    _is_reference_host,
    analyst_iocs,
    extract_iocs,
    ioc_id,
    refang,
    structured_iocs,
)

Pair = tuple[str, str]


def _extract(text: str, *, packages: Iterable[str] = ()) -> pd.DataFrame:
    frame = extract_iocs(
        text, advisory_id="ADV-1", source="test", evidence="inline", packages=packages
    )
    validate(frame, "iocs")
    assert set(frame["ioc_type"]) <= IOC_TYPES
    return frame


def _pairs(frame: pd.DataFrame, *, references: bool = False) -> set[Pair]:
    keep = frame if references else frame[frame["ioc_type"] != "reference"]
    return set(zip(keep["ioc_type"], keep["value"], strict=True))


def _record(shared: Path, name: str) -> dict:
    return json.loads((shared / "corpus" / "advisories" / f"{name}.json").read_text())


def _record_text(record: dict) -> str:
    return f"{record.get('summary') or ''}\n\n{record.get('details') or ''}"


def _section(shared: Path, heading: str) -> str:
    """One ``## N. title`` section of the incident catalog."""
    text = (shared / "reference" / "incidents.md").read_text()
    for part in re.split(r"\n(?=## )", text):
        if part.startswith(f"## {heading}"):
            return part
    raise AssertionError(f"no section {heading!r} in incidents.md")


# --- the real advisory records -----------------------------------------------------------

# Non-reference indicators in each record's summary + details, read by hand.
RECORD_TEXT_IOCS: dict[str, set[Pair]] = {
    # details: "installs a windows based malware file node-gyp.dll via install.js"
    "MAL-2025-6022": {("file_name", "node-gyp.dll"), ("file_name", "install.js")},
    # details, first paragraph: "an identical 80KB obfuscated payload appended to node-ipc.cjs";
    # the ".env files" and the _0x… identifiers later on are not indicators
    "MAL-2026-3744": {("file_name", "node-ipc.cjs")},
    # details name the dependency "plain-crypto-js" without a version, and three per-source
    # headings whose hex is the feed report's digest: nothing to list
    "MAL-2026-2307": set(),
    # "(2.0.3 and above) should downgrade to 2.0.2": versions, and a link to the coa issue
    "GHSA-73qr-pfmq-6rp8": set(),
    # "(0.7.29, 0.8.0, 1.0.0)": versions, not addresses
    "GHSA-pjwm-rvh2-c87w": set(),
    # "read the users `.npmrc` file": a file every developer has; docs.npmjs.com link
    "GHSA-hxxf-q3w9-4xgw": set(),
    "GHSA-mh6f-8j2x-4483": set(),
    "GHSA-97m3-w2cp-4xx6": set(),
    # only boilerplate under "## Source: feed (sha256)" headings
    "MAL-2024-11183": set(),
    "MAL-2025-20690": set(),
    "MAL-2025-46969": set(),
    "MAL-2025-46985": set(),
    "MAL-2025-47141": set(),
    "MAL-2025-6020": set(),
}


@pytest.mark.parametrize("name", sorted(RECORD_TEXT_IOCS))
def test_real_record_text(shared: Path, name: str) -> None:
    record = _record(shared, name)
    packages = [a["package"]["name"] for a in record["affected"]]
    frame = _extract(_record_text(record), packages=packages)
    assert _pairs(frame) == RECORD_TEXT_IOCS[name]
    assert set(frame["confidence"]) <= {"extracted"}
    assert set(frame["advisory_id"]) <= {"ADV-1"}


def test_every_record_in_the_corpus_is_listed(shared: Path) -> None:
    names = {p.stem for p in (shared / "corpus" / "advisories").glob("*.json")}
    assert names == set(RECORD_TEXT_IOCS)


def test_feed_report_digests_are_never_indicators(shared: Path) -> None:
    # malicious-packages-origins[].sha256 is the digest of each feed's report; the same hex is
    # repeated in the details' "## Source: feed (…)" headings
    for path in sorted((shared / "corpus" / "advisories").glob("*.json")):
        record = json.loads(path.read_text())
        origins = (record.get("database_specific") or {}).get("malicious-packages-origins") or []
        digests = {o["sha256"] for o in origins}
        extracted = _extract(_record_text(record))
        structured = structured_iocs(record, advisory_id=record["id"], source="t", evidence="e")
        found = set(extracted["value"]) | set(structured["value"])
        assert not digests & found, path.name


def test_links_in_real_records_are_references(shared: Path) -> None:
    # GHSA-pjwm: "See [this issue](https://github.com/faisalman/ua-parser-js/issues/536)"
    frame = _extract(_record_text(_record(shared, "GHSA-pjwm-rvh2-c87w")))
    assert _pairs(frame, references=True) == {
        ("reference", "https://github.com/faisalman/ua-parser-js/issues/536")
    }
    assert frame["port"].isna().all()


def test_structured_iocs_of_axios(shared: Path) -> None:
    # MAL-2026-2307 database_specific.iocs: domains, ips, urls
    record = _record(shared, "MAL-2026-2307")
    frame = structured_iocs(record, advisory_id=record["id"], source="osv-dir", evidence="x.json")
    validate(frame, "iocs")
    assert _pairs(frame) == {
        ("domain", "sfrclak.com"),
        ("ip", "142.11.206.73"),
        ("url", "http://sfrclak.com:8000/6202033"),
    }
    url = frame[frame["ioc_type"] == "url"].iloc[0]
    assert url["port"] == 8000
    assert url["context"] == "database_specific.iocs.urls[0]"
    assert set(frame["confidence"]) == {"structured"}
    # its three references: the GHSA, the StepSecurity write-up and the axios issue
    assert len(frame[frame["ioc_type"] == "reference"]) == 3


def test_structured_iocs_of_node_ipc(shared: Path) -> None:
    # MAL-2026-3744 affected[0].database_specific.indicators: evidence_files, package_integrity
    record = _record(shared, "MAL-2026-3744")
    frame = structured_iocs(record, advisory_id=record["id"], source="osv-dir", evidence="x.json")
    assert _pairs(frame) == {
        ("file_name", "node-ipc.cjs"),
        ("sha256", "96097e0612d9575cb133021017fb1a5c68a03b60f9f3d24ebdc0e628d9034144"),
        ("tlsh", "42b3b20437c2f44513939275774fe0daf5371ca6a04c8996f26ca8f0af92626f2f4a79"),
        ("file_name", "node-ipc-9.1.6.tgz"),
        ("sha1", "f5974a9774a22a863728b960543f68e7009099ef"),
        (
            "integrity",
            "sha512-ParJgA8rMBa1CAv6QFDZYzZxsNsmHWL24RapTSVbZB9qVE+dC7mHNwDj5gcd874bKjjk7w0pI/WMYrx9TxU7nQ==",
        ),
    }
    sha1 = frame[frame["ioc_type"] == "sha1"].iloc[0]
    # the context says which file the hash belongs to
    assert "node-ipc-9.1.6.tgz" in sha1["context"]
    assert sha1["context"].startswith("affected[0].database_specific.indicators.package_integrity")


def test_structured_virustotal_reference_gives_the_sample_hash(shared: Path) -> None:
    # GHSA-73qr-pfmq-6rp8 references[3]: https://www.virustotal.com/gui/file/26451f…?nocache=1
    record = _record(shared, "GHSA-73qr-pfmq-6rp8")
    frame = structured_iocs(record, advisory_id=record["id"], source="ghsa", evidence="x.json")
    assert _pairs(frame) == {
        ("sha256", "26451f7f6fe297adf6738295b1dcc70f7678434ef21d8b6aad5ec00beb8a72cf")
    }
    assert len(frame[frame["ioc_type"] == "reference"]) == len(record["references"])


def test_records_without_indicator_fields_give_only_references(shared: Path) -> None:
    for name in ("MAL-2025-47141", "MAL-2024-11183", "GHSA-97m3-w2cp-4xx6", "MAL-2025-6022"):
        record = _record(shared, name)
        frame = structured_iocs(record, advisory_id=name, source="t", evidence="e")
        assert set(frame["ioc_type"]) == {"reference"}, name
        assert set(frame["value"]) == {r["url"] for r in record["references"]}, name


# --- the incident catalog ----------------------------------------------------------------

# Indicators a reader of each incidents.md section lists (all must be found).
SECTION_IOCS: dict[str, set[Pair]] = {
    "1.": {
        ("domain", "copayapi.host"),  # IOCs: `copayapi.host`, then `111.90.151.134`
        ("ip", "111.90.151.134"),
        ("package_version", "event-stream@3.3.6"),  # Packages: `event-stream@3.3.6`
        ("package_version", "flatmap-stream@0.1.1"),
        ("file_name", "index.min.js"),  # Mechanism: the published minified `index.min.js`
    },
    "2.": {
        ("package_version", "eslint-scope@3.7.2"),  # Packages
        ("package_version", "eslint-config-eslint@5.0.2"),
        ("file_name", "./lib/build.js"),  # `… postinstall … node ./lib/build.js`
    },
    "3.": {
        ("ip", "159.148.186.228"),  # IOCs: IP
        ("domain", "citationsherbe.at"),  # IOCs: domains
        ("domain", "pool.minexmr.com"),
        ("url", "http://159.148.186.228/download/jsextension"),  # Linux: downloads …
        ("url", "https://citationsherbe.at/sdd.dll"),  # Windows: …
        ("file_name", "preinstall.sh"),  # preinstall.js runs `preinstall.sh` … `preinstall.bat`
        ("file_name", "preinstall.bat"),
        ("file_name", "jsextension.exe"),
        ("file_name", "create.dll"),
        ("sha256", "7f986cd3c946f274cdec73f80b84855a77bc2a3c765d68897fbc42835629a5d5"),
        ("process", "XMRig"),  # "runs XMRig against `pool.minexmr.com:443`"
        ("process", "regsvr32.exe"),  # "runs `regsvr32.exe -s create.dll`"
    },
    "4.": {
        ("sha256", "26451f7f6fe297adf6738295b1dcc70f7678434ef21d8b6aad5ec00beb8a72cf"),  # VT
        ("sha256", "eb99954657e3ae69c43c0ccb90131763030239fbd4dff18719e21dae2d6e0a93"),  # .bat
        ("file_name", "compile.js"),  # Mechanism
        ("file_name", "compile.bat"),
        ("file_name", "sdd.dll"),
        ("domain", "pastorcryptograph.at"),  # Download host (UNVERIFIED, still listed)
    },
    "5.": {("file_name", "dao/ssl-geospec.js")},  # code in `dao/ssl-geospec.js`
    "6.": {
        ("domain", "sol-rpc.xyz"),  # written defanged: "to `sol-rpc[.]xyz`"
        ("wallet", "FnvLGtucz4E1ppJHRTev6Qv4X7g8Pw6WPStHCcbAKbfx"),  # attacker Solana address
    },
    "7.": {
        ("ip", "80.78.28.72"),  # IOCs
        (
            "wallet",  # XMR wallet
            "475NBZygwEajj4YP2Bdu7yg6XnaphiFjxTFPkvzg5xAjLGPSakE68nyGavn8r1BYqB44xTEyKQhueeqAyGy8RaYc73URL1j",
        ),
        ("repository", "github.com/xmrig/xmrig"),  # miner fetched from `github.com/xmrig/xmrig`
        ("package_version", "@rspack/core@1.1.7"),
        ("package_version", "@rspack/cli@1.1.7"),
    },
    "8.": {
        ("domain", "npnjs.com"),  # phished via the typosquat `npnjs.com`
        ("file_name", "install.js"),  # Files `install.js` and `node-gyp.dll`
        ("file_name", "node-gyp.dll"),
        ("process", "rundll32"),  # "`install.js` runs `rundll32` on the bundled …"
    },
    "9.": {("file_name", "check.js")},  # a postinstall that runs an obfuscated `check.js`
    "10.": {
        ("file_name", "telemetry.js"),  # A `postinstall` runs `telemetry.js`
        ("file_name", "/tmp/inventory.txt"),
        ("repository", "s1ngularity-repository"),  # repo …, named `s1ngularity-repository`
    },
    "11.": {
        ("domain", "npmjs.help"),  # Phishing domain `npmjs.help` (also `https://npmjs.help` …)
        ("url", "https://npmjs.help"),
        ("wallet", "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976"),  # Attacker wallets
        ("wallet", "1H13VnQJKtT4HjD5ZFKaaiZEetMbG7nDHx"),
        ("wallet", "TB9emsCq6fQw6wRk4HBxxNnU6Hwt1DnV67"),
    },
    "12.": {
        ("url", "https://webhook.site/bb8ca5f6-4175-45d2-b042-fc9ebb8170b7"),  # IOCs
        ("domain", "webhook.site"),
        ("file_name", "bundle.js"),  # A postinstall runs `bundle.js`
        ("file_name", ".github/workflows/shai-hulud-workflow.yml"),
        ("file_name", "/tmp/migrate-repos.sh"),
        ("file_name", "/tmp/processor.sh"),
        ("repository", "Shai-Hulud"),  # public repos named `Shai-Hulud`
        ("process", "TruffleHog"),  # "It runs TruffleHog over the filesystem"
        # bundle.js SHA-256 variants, the eight listed
        ("sha256", "46faab8ab153fae6e80e7cca38eab363075bb524edd79e42269217a083628f09"),
        ("sha256", "de0e25a3e6c1e1e5998b306b7141b3dc4c0088da9d7bb47c1c00c91e6e4f85d6"),
        ("sha256", "81d2a004a1bca6ef87a1caf7d0e0b355ad1764238e40ff6d1b1cb77ad4f595c3"),
        ("sha256", "83a650ce44b2a9854802a7fb4c202877815274c129af49e6c2d1d5d5d55c501e"),
        ("sha256", "4b2399646573bb737c4969563303d8ee2e9ddbd1b271f1ca9e35ea78062538db"),
        ("sha256", "dc67467a39b70d1cd4c1f7f7a459b35058163592f4a9e8fb4dffcbba98ef210c"),
        ("sha256", "b74caeaa75e077c99f7d44f46daaf9796a3be43ecf24f2a1fd381844669da777"),
        ("sha256", "bc18414929992e8e8d2211f9c51ebc7241294a1af3cfdbdd5ca417974b2dac0b"),
    },
    "13.": {
        ("file_name", "setup_bun.js"),  # `"preinstall": "node setup_bun.js"`
        ("file_name", "bun_environment.js"),
        ("file_name", "truffleSecrets.json"),  # the repo holds cloud.json, …
        ("file_name", "actionsSecrets.json"),
        ("file_name", ".github/workflows/discussion.yaml"),
        ("file_name", "actions-runner-linux-x64-2.330.0.tar.gz"),
        ("sha256", "a3894003ad1d293ba96d77881ccd2071446dc3f65f434669b49b3da92421901a"),
        ("sha1", "d1829b4708126dcc7bea7437c04d1f10eacd4a16"),  # setup_bun.js SHA-1
        ("sha256", "62ee164b9b306250c1172583f138c9614139264f889fa99614903c12755468d0"),
        ("sha256", "cbb9bc5a8496243e02f3cc080efbe3e4a1430ba0671f2e43a202bf45b05479cd"),
        ("sha256", "f099c5d9ec417d4445a0328ac0ada9cde79fc37410914103ae9c609cbc0ee068"),
        ("sha256", "f1df4896244500671eb4aa63ebb48ea11cee196fafaa0e9874e17b24ac053c02"),
        ("sha256", "9d59fd0bcc14b671079824c704575f201b74276238dc07a9c12a93a84195648a"),
        ("sha256", "e0250076c1d2ac38777ea8f542431daf61fcbaab0ca9c196614b28065ef5b918"),
        ("package_version", "@postman/tunnel-agent@0.6.7"),  # primary infection vectors
        ("package_version", "@asyncapi/specs@6.8.3"),
    },
    "14.": {
        ("domain", "sfrclak.com"),  # Network: …
        ("ip", "142.11.206.73"),
        ("url", "http://sfrclak.com:8000/6202033"),
        ("sha256", "92ff08773995ebc8d55ec4b8e1a225d0d1e51efa4ef88b8849d0071230c9645a"),  # macOS
        ("sha256", "617b67a8e1210e4fc87c92d1d1da45a2f311c08d26e89b12307cf583c900d101"),  # Windows
        ("sha256", "fcb81618bb15edfdedfb638b4c08a2af9cac9ecfa551af135a8402bf980375cf"),  # Linux
        ("file_name", "/Library/Caches/com.apple.act.mond"),  # Files and persistence
        ("file_name", "$TMPDIR/6202033"),
        ("file_name", "%PROGRAMDATA%\\wt.exe"),
        ("file_name", "%PROGRAMDATA%\\system.bat"),
        ("file_name", "/tmp/ld.py"),
        ("email", "nrwise@proton.me"),  # Attacker accounts
        ("email", "ifstap@proton.me"),
        ("package_version", "plain-crypto-js@4.2.1"),
    },
    "15.": {
        ("domain", "audit.checkmarx.cx"),  # exfil to `audit.checkmarx.cx` (`94.154.172.43`)
        ("ip", "94.154.172.43"),
        ("file_name", "bw1.js"),  # a preinstall runs `bw1.js`
    },
    "16.": {
        ("domain", "git-tanstack.com"),  # Domains …
        ("domain", "filev2.getsession.org"),
        ("domain", "api.masscan.cloud"),
        ("domain", "seed1.getsession.org"),
        ("file_name", "router_init.js"),
        ("file_name", "tanstack_runner.js"),
        ("sha256", "ab4fcadaec49c03278063dd269ea5eef82d24f2124a8e15d7b90f2fa8601266c"),
        ("sha256", "2ec78d556d696e208927cc503d48e4b5eb56b31abc2870c2ed2e98d6be27fc96"),
        ("sha256", "7c12d8614c624c70d6dd6fc2ee289332474abaa38f70ebe2cdef064923ca3a9b"),
    },
    "17.": {
        ("file_name", "node-ipc.cjs"),
        ("sha256", "96097e0612d9575cb133021017fb1a5c68a03b60f9f3d24ebdc0e628d9034144"),
        ("file_name", "node-ipc-9.1.6.tgz"),
        ("sha1", "f5974a9774a22a863728b960543f68e7009099ef"),
        ("domain", "sh.azurestaticprovider.net"),  # C2 … (`37.16.75.69`, …)
        ("ip", "37.16.75.69"),
    },
    "18.": {
        ("package_version", "keyv@6.0.0"),
        ("file_name", "setup.mjs"),
        ("file_name", "Math_Symbol.js"),
        ("file_name", ".claude/settings.json"),  # autostart hooks in … and `.vscode/tasks.json`
        ("file_name", ".vscode/tasks.json"),
        ("file_name", "~/.local/bin/gh-token-monitor.sh"),
        ("sha256", "54dc7ea54a1317cca0e890a2770630cf7fa6c97813e0cb9d2caa93012b350668"),
        ("sha256", "9fc2570b7cef51c1b8df116d144d11ff4096357be7d2c4c6367cfc2509cf1bcc"),
        ("sha256", "fd3ca4007b225fdf8de7af4345a19179d5efa8c4bb9205f88cda806e5684b1eb"),
    },
    "Other 2026": {
        ("domain", "t.m-kosche.com"),  # AntV/atool wave: C2 `t.m-kosche.com`
        ("sha256", "a68dd1e6a6e35ec3771e1f94fe796f55dfe65a2b94560516ff4ac189390dfa1c"),
        ("sha256", "ef641e956f91d501b748085996303c96a64d67f63bfeef0dda175e5aa19cca90"),
        ("file_name", "binding.gyp"),  # a binding.gyp worm
        ("ip", "23.254.164.92"),  # Mastra: C2 `23.254.164.92:8000`
    },
}

# What a reader would not list, per section, and what naive extraction would.
SECTION_NOT_IOCS: dict[str, set[Pair]] = {
    # "the consuming app's `package.json` description": every package has one
    "1.": {("file_name", "package.json")},
    # postmortem link: a reference, not a URL indicator
    "2.": {
        ("domain", "eslint.org"),
        ("url", "https://eslint.org/blog/2018/07/postmortem-for-malicious-package-publishes"),
        ("file_name", ".npmrc"),
    },
    # `regsvr32.exe -s create.dll` runs a system binary: a process, not a file to hunt
    "3.": {("file_name", "regsvr32.exe"), ("ip", "0.7.29")},
    # "(commit `847047cf…`)": a git commit, not a file's SHA-1
    "5.": {("sha1", "847047cf7f81ab08352038b2204f0e7633449580")},
    # Keypair.fromSecretKey is code; `@solana/web3.js` is the package
    "6.": {
        ("domain", "keypair.fromsecretkey"),
        ("file_name", "@solana/web3.js"),
        ("file_name", "web3.js"),
    },
    # the OSV record's own path in the table, and a source cited as "[S: appsecuritystandards.org…]"
    "8.": {
        ("file_name", "osv/malicious/npm/eslint-config-prettier/MAL-2025-6022.json"),
        ("domain", "appsecuritystandards.org"),
    },
    # "The attacker's commit `3905475c…`"
    "10.": {("sha1", "3905475cfd0e0ea670e20c6a9eaeb768169dc33d")},
    # "[S: guardrail.ai]" cites a source; window.ethereum and XMLHttpRequest are code
    "11.": {
        ("domain", "guardrail.ai"),
        ("domain", "window.ethereum"),
        ("domain", "xmlhttprequest.prototype.send"),
    },
    "12.": {("domain", "stateward.com"), ("domain", "cyberbudo.blog")},
    # `.npmrc` and the gcloud credentials file are what is stolen, present on every machine
    "13.": {
        ("file_name", ".npmrc"),
        ("file_name", ".config/gcloud/application_default_credentials.json"),
    },
    # "Run key `MicrosoftUpdate`" names a registry value; proton.me is a mail provider
    "14.": {("process", "MicrosoftUpdate"), ("domain", "proton.me")},
    "16.": {("domain", "dev.to")},  # "[S: dev.to]"
}


@pytest.mark.parametrize("heading", sorted(SECTION_IOCS))
def test_incident_section(shared: Path, heading: str) -> None:
    frame = _extract(_section(shared, heading))
    found = _pairs(frame)
    assert SECTION_IOCS[heading] <= found, SECTION_IOCS[heading] - found
    assert not SECTION_NOT_IOCS.get(heading, set()) & found


def test_whole_catalog_addresses_are_exactly_the_real_ones(shared: Path) -> None:
    # every dotted quad in incidents.md that is an address (the nine below), and none of the
    # versions (1.95.6, 2.330.0, …) or counts
    frame = _extract((shared / "reference" / "incidents.md").read_text())
    assert set(frame.loc[frame["ioc_type"] == "ip", "value"]) == {
        "111.90.151.134",  # §1
        "159.148.186.228",  # §3
        "80.78.28.72",  # §7
        "142.11.206.73",  # §14
        "94.154.172.43",  # §15
        "37.16.75.69",  # §17
        "169.254.169.254",  # §18: cloud IMDS, which the payload queries
        "169.254.170.2",
        "23.254.164.92",  # Other 2026: Mastra C2
    }
    domains = set(frame.loc[frame["ioc_type"] == "domain", "value"])
    # no package, file, runtime or source name taken for a host
    assert not domains & {"node.js", "package.json", "web3.js", "timeago.js", "dev.to"}
    assert all("." in d and d == d.lower() for d in domains)
    # ports where the text gives them: `pool.minexmr.com:443`, `23.254.164.92:8000`
    ports = {
        (t, v): p
        for t, v, p in zip(frame["ioc_type"], frame["value"], frame["port"], strict=True)
        if not pd.isna(p)
    }
    assert ports[("domain", "pool.minexmr.com")] == 443
    assert ports[("ip", "23.254.164.92")] == 8000


def test_threat_center_details_example(shared: Path) -> None:
    # the Threat-Intelligence export shape in stepsecurity-api.md: markdown details with an
    # "Am I Affected?" list and a defanged C2
    text = (shared / "reference" / "stepsecurity-api.md").read_text()
    block = re.search(r"Example \(shape only, invented values\):\n```json\n(.*?)```", text, re.S)
    assert block is not None
    incident = json.loads(block.group(1))
    frame = _extract(incident["details"])
    assert _pairs(frame) == {
        ("package_version", "example-pkg@1.4.2"),
        ("domain", "evil-example.com"),
    }
    row = frame[frame["ioc_type"] == "domain"].iloc[0]
    assert row["context"] == "- C2: evil-example[.]com …"


# --- forms of writing --------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "evil-cdn[.]net",
        "evil-cdn(.)net",
        "evil-cdn{.}net",
        "evil-cdn[dot]net",
        "evil-cdn[DOT]net",
        "evil-cdn [.] net",
        "evil-cdn [dot] net",
        "evil-cdn\\.net",  # a markdown escape
        "`evil-cdn.net`",
        "**evil-cdn.net**",
        "(evil-cdn.net).",
        "EVIL-CDN.NET,",
        "<evil-cdn.net>",
        "| evil-cdn.net |",
        '"evil-cdn.net"',
    ],
)
def test_defanged_and_decorated_domains(written: str) -> None:
    assert _pairs(_extract(f"The C2 is {written} today")) == {("domain", "evil-cdn.net")}


@pytest.mark.parametrize(
    "written",
    [
        "hxxps://evil-cdn[.]net/drop/x.js",
        "hXXps://evil-cdn.net/drop/x.js",
        "h**ps://evil-cdn.net/drop/x.js",
        "hxxps[://]evil-cdn[.]net/drop/x.js",
        "hxxps[:]//evil-cdn[.]net/drop/x.js",
        "[the payload](https://evil-cdn.net/drop/x.js)",
        "<https://evil-cdn.net/drop/x.js>",
        "`https://evil-cdn.net/drop/x.js`.",
        "(see https://EVIL-CDN.net/drop/x.js)",
    ],
)
def test_defanged_and_decorated_urls(written: str) -> None:
    frame = _extract(f"It downloads {written}")
    assert _pairs(frame) == {
        ("url", "https://evil-cdn.net/drop/x.js"),
        ("domain", "evil-cdn.net"),
    }
    url = frame[frame["ioc_type"] == "url"].iloc[0]
    assert url["port"] == 443  # the scheme's port; the domain row has none of its own
    assert pd.isna(frame[frame["ioc_type"] == "domain"].iloc[0]["port"])


def test_urls_keep_ports_paths_and_balanced_parentheses() -> None:
    frame = _extract(
        "C2 hxxp://142.11.206[.]73:8000/a?b=1 and https://evil-cdn.net/wiki/Foo_(bar)), "
        "also [dl](http://[2001:db8::5]:8080/p)."
    )
    assert _pairs(frame) == {
        ("url", "http://142.11.206.73:8000/a?b=1"),
        ("ip", "142.11.206.73"),
        ("url", "https://evil-cdn.net/wiki/Foo_(bar)"),
        ("domain", "evil-cdn.net"),
        ("url", "http://[2001:db8::5]:8080/p"),
        ("ip", "2001:db8::5"),
    }
    ports = dict(zip(frame["value"], frame["port"], strict=True))
    assert ports["http://142.11.206.73:8000/a?b=1"] == 8000
    assert ports["142.11.206.73"] == 8000
    assert ports["http://[2001:db8::5]:8080/p"] == 8080


def test_hosts_ips_and_emails_defanged() -> None:
    frame = _extract(
        "beacons to 142.11.206[.]73, evil-cdn[.]net[:]4443 and 2001:db8:0:0:0:0:0:7; "
        "contact attacker[@]proton[.]me"
    )
    assert _pairs(frame) == {
        ("ip", "142.11.206.73"),
        ("domain", "evil-cdn.net"),
        ("ip", "2001:db8::7"),
        ("email", "attacker@proton.me"),
    }
    assert frame.set_index("value").loc["evil-cdn.net", "port"] == 4443


def test_obvious_non_indicators_are_not_found() -> None:
    text = (
        "Upgrade to version 1.2.3.4 (or v 10.0.0.1) as described in README.md; see the package.json "
        "of your Node.js app, e.g. the `.npmrc` file. The hook reads window.ethereum, pkg.name and "
        "user.id, calls XMLHttpRequest.prototype.send, then runs `node --version`. "
        "Times 12:30:45, a ratio 3:2, a uuid 6f1c2b7e-1b0d-4a8e-9f3c-2d5e7a9b0c1d, a 0x1234 "
        "constant, a 0x-prefixed key 0x" + "ab" * 32 + " and the digest inside "
        "deadbeef" + "0" * 64 + "."
    )
    assert _pairs(_extract(text)) == set()


def test_package_names_given_are_not_files_or_hosts() -> None:
    text = "Affected: timeago.js and size-sensor, also socket.io@4.7.0 and @antv/g2."
    assert ("file_name", "timeago.js") in _pairs(_extract(text))
    found = _pairs(_extract(text, packages=["timeago.js", "size-sensor", "@antv/g2"]))
    assert found == {("package_version", "socket.io@4.7.0")}


def test_hashes_stand_alone_and_keep_their_kind() -> None:
    sha256 = hashlib.sha256(b"payload").hexdigest()
    sha1 = hashlib.sha1(b"payload").hexdigest()
    text = f"SHA-256 {sha256.upper()}, sha1={sha1}; not {sha256}ff, not x{sha1}, not {sha1[:39]}."
    assert _pairs(_extract(text)) == {("sha256", sha256), ("sha1", sha1)}


def test_source_heading_digests_are_skipped_but_body_hashes_kept() -> None:
    digest = hashlib.sha256(b"report").hexdigest()
    payload = hashlib.sha256(b"payload").hexdigest()
    text = f"## Source: ghsa-malware ({digest})\nThe dropper's SHA-256 is {payload}."
    assert _pairs(_extract(text)) == {("sha256", payload)}


def test_commit_shas_in_links_and_tables_are_not_file_hashes() -> None:
    commit = hashlib.sha1(b"commit").hexdigest()
    text = (
        f"Fixed in https://github.com/acme/lib/commit/{commit} (commit {commit}).\n\n"
        "| repo | commit | used for |\n|---|---|---|\n"
        f"| acme/lib | `{commit}` | lists |\n"
    )
    frame = _extract(text)
    assert _pairs(frame) == set()
    assert _pairs(frame, references=True) == {
        ("reference", f"https://github.com/acme/lib/commit/{commit}")
    }


def test_github_repositories() -> None:
    text = (
        "Stolen data goes to repos named `Shai-Hulud`, e.g. https://github.com/victim/Shai-Hulud; "
        "the miner comes from github.com/xmrig/xmrig and "
        "https://github.com/xmrig/xmrig/releases/download/v6.22.2/xmrig.tar.gz; "
        "see https://github.com/acme/lib/issues/7 and github.com/advisories/GHSA-xxxx-yyyy-zzzz."
    )
    found = _pairs(_extract(text), references=True)
    assert found == {
        ("repository", "Shai-Hulud"),
        ("repository", "github.com/victim/Shai-Hulud"),
        ("repository", "github.com/xmrig/xmrig"),
        ("url", "https://github.com/xmrig/xmrig/releases/download/v6.22.2/xmrig.tar.gz"),
        ("reference", "https://github.com/acme/lib/issues/7"),
        ("reference", "github.com/advisories/GHSA-xxxx-yyyy-zzzz"),
    }


def test_reference_hosts_and_look_alikes() -> None:
    sample = hashlib.sha256(b"sample").hexdigest()
    text = (
        "Read https://www.stepsecurity.io/blog/x, https://osv.dev/vulnerability/MAL-1, "
        "nvd.nist.gov and registry.npmjs.org. The phish came from npmjs.help and "
        "registry-npmjs.org, and the payload from evil.github.io. "
        f"Sample: https://www.virustotal.com/gui/file/{sample}/detection"
    )
    frame = _extract(text)
    assert _pairs(frame) == {
        ("domain", "npmjs.help"),
        ("domain", "registry-npmjs.org"),
        ("domain", "evil.github.io"),  # GitHub Pages hosts anyone's content
        ("sha256", sample),  # a VirusTotal file link names the sample
    }
    assert len(frame[frame["ioc_type"] == "reference"]) == 5


def test_processes_only_where_the_text_says_so() -> None:
    text = (
        "It spawns a process named `kworkerd` and runs `rundll32 x.dll,Start`, then runs "
        "`node index.js` and `bash -c id`; the process is killed later. Running Bun is normal."
    )
    found = _pairs(_extract(text))
    assert {p for p in found if p[0] == "process"} == {
        ("process", "kworkerd"),
        ("process", "rundll32"),
    }


def test_wallet_checksums_are_verified() -> None:
    # the chalk/debug drainer's BTC address (incidents.md §11) with one character changed
    good, bad = "1H13VnQJKtT4HjD5ZFKaaiZEetMbG7nDHx", "1H13VnQJKtT4HjD5ZFKaaiZEetMbG7nDHy"
    segwit = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"  # BIP-173's P2WPKH example
    found = _pairs(_extract(f"Send to {good}, {bad} or {segwit.upper()}."))
    assert found == {("wallet", good), ("wallet", segwit)}


def test_elided_values_keep_only_what_is_known() -> None:
    frame = _extract("exfil to webhook.site/bb8ca5f6-… and https://evil-cdn.net/abc…")
    assert _pairs(frame) == {("domain", "webhook.site"), ("domain", "evil-cdn.net")}


def test_dedup_within_an_advisory_and_stable_ids() -> None:
    frame = _extract("sfrclak.com, then sfrclak.com again, then sfrclak.com:8000 and SFRCLAK.COM.")
    assert list(zip(frame["ioc_type"], frame["value"], frame["port"], strict=True)) == [
        ("domain", "sfrclak.com", 8000)
    ]
    other = extract_iocs("C2: sfrclak[.]com", advisory_id="ADV-2", source="x", evidence="y")
    assert other["ioc_id"].iloc[0] == frame["ioc_id"].iloc[0]
    assert ioc_id("domain", "sfrclak.com") == frame["ioc_id"].iloc[0]
    assert ioc_id("url", "sfrclak.com") != ioc_id("domain", "sfrclak.com")
    assert re.fullmatch(r"[0-9a-f]{16}", frame["ioc_id"].iloc[0])


def test_context_names_what_a_listed_hash_belongs_to() -> None:
    text = "- bundle.js SHA-256 variants:\n  - `" + "a" * 64 + "`\n  - `" + "b" * 64 + "`\n"
    frame = _extract(text)
    assert len(frame) == 3  # bundle.js and two hashes
    for context in frame.loc[frame["ioc_type"] == "sha256", "context"]:
        assert context.startswith("- bundle.js SHA-256 variants:")


def test_empty_text_gives_an_empty_frame_of_the_schema() -> None:
    frame = _extract("")
    assert frame.empty
    assert str(frame["port"].dtype) == "Int64"


def test_refang() -> None:
    assert refang("hxxps[://]evil[.]com[:]8080/a(.)b") == "https://evil.com:8080/a.b"
    assert refang("me[at]evil[dot]com") == "me@evil.com"


# --- structured shapes seen in the OSV record family ---------------------------------------


def test_structured_shapes_of_newer_records() -> None:
    # the shapes incidents.md describes for 2025-2026 records and incident files (written
    # here by hand: files[{paths[], note, source}], sha256 lists, typed lists under
    # database_specific, a {type, value} item, an unknown key, references as plain strings)
    sha = hashlib.sha256(b"x").hexdigest()
    record = {
        "id": "MAL-TEST-1",
        "database_specific": {
            "iocs": {
                "domains": ["git-tanstack[.]com"],
                "files": [
                    {
                        "paths": ["router_init.js", "tanstack_runner.js"],
                        "note": "dropped by the optional dependency",
                        "source": "google-open-source-security",
                    }
                ],
                "sha256": [sha.upper()],
                "hashes": ["sha1:" + "c" * 40, "sha512-YWJj", "not-a-hash"],
                "user_agents": ["mozilla/4.0 (compatible; msie 8.0)"],
                "more": [{"type": "ip", "value": "37.16.75[.]69"}],
            },
            "malicious-packages-origins": [{"sha256": "d" * 64, "source": "ghsa-malware"}],
            "urls": ["hxxp://sfrclak[.]com:8000/6202033"],
            "cwe_ids": ["CWE-506"],
        },
        "references": ["https://github.com/advisories/GHSA-x", {"type": "WEB"}],
    }
    frame = structured_iocs(record, advisory_id="MAL-TEST-1", source="osv", evidence="e")
    validate(frame, "iocs")
    assert _pairs(frame, references=True) == {
        ("domain", "git-tanstack.com"),
        ("file_name", "router_init.js"),
        ("file_name", "tanstack_runner.js"),
        ("sha256", sha),
        ("sha1", "c" * 40),
        ("integrity", "sha512-YWJj"),
        ("hash", "not-a-hash"),
        ("other", "mozilla/4.0 (compatible; msie 8.0)"),
        ("ip", "37.16.75.69"),
        ("url", "http://sfrclak.com:8000/6202033"),
        ("reference", "https://github.com/advisories/GHSA-x"),
    }
    note = frame[frame["value"] == "router_init.js"].iloc[0]["context"]
    assert note == (
        "database_specific.iocs.files[0] (router_init.js, tanstack_runner.js): "
        "dropped by the optional dependency"
    )


def test_structured_tolerates_odd_shapes() -> None:
    for record in (
        {},
        {"database_specific": None, "affected": None, "references": None},
        {"database_specific": {"iocs": "evil.com"}, "affected": ["x", {"database_specific": 3}]},
        {"database_specific": {"iocs": {"domains": [None, 5, True, {"z": []}]}}},
    ):
        frame = structured_iocs(record, advisory_id="A", source="s", evidence="e")
        validate(frame, "iocs")
    one = structured_iocs(
        {"database_specific": {"iocs": "see evil-cdn[.]net"}},
        advisory_id="A",
        source="s",
        evidence="e",
    )
    assert _pairs(one) == {("domain", "evil-cdn.net")}


# --- the analyst ---------------------------------------------------------------------------


def test_analyst_items() -> None:
    sha = hashlib.sha256(b"p").hexdigest()
    frame = analyst_iocs(
        [
            "domain:evil.example",
            "domain:GitHub.com",  # typed: honoured even though it is a reference host
            f"sha256:{sha.upper()}",
            "hash:" + "e" * 40,
            "ip:142.11.206[.]73",
            "https://evil-cdn.net/x",
            "bundle.js",
            {"type": "c2", "value": "sfrclak.com", "port": 8000, "note": "from the IR call"},
            {"value": "0xFc4a4858bafef54D1b1d7697bfb5c52F4c166976"},
            "repo:victim/Shai-Hulud",
        ],
        advisory_id="INC-1",
        evidence="incident.yml",
    )
    validate(frame, "iocs")
    assert set(zip(frame["ioc_type"], frame["value"], frame["port"], strict=True)) == {
        ("domain", "evil.example", pd.NA),
        ("domain", "github.com", pd.NA),
        ("sha256", sha, pd.NA),
        ("sha1", "e" * 40, pd.NA),
        ("ip", "142.11.206.73", pd.NA),
        ("url", "https://evil-cdn.net/x", 443),
        ("file_name", "bundle.js", pd.NA),
        ("domain", "sfrclak.com", 8000),
        ("wallet", "0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976", pd.NA),
        ("repository", "victim/Shai-Hulud", pd.NA),
    }
    assert set(frame["confidence"]) == {"analyst"}
    assert set(frame["source"]) == {"incident"}
    assert frame.set_index("value").loc["sfrclak.com", "context"] == "from the IR call"
    assert frame.set_index("value").loc["bundle.js", "context"] == "bundle.js"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("colour:red", "cannot tell"),  # an unknown prefix falls back to recognising: nothing
        ({"type": "colour", "value": "red"}, "unknown indicator type"),
        ({"type": "domain"}, "non-empty 'value'"),
        ("sha256:abc", "not a sha256"),
        ("hash:xyz", "not a hash of a known length"),
        ("ip:999.1.1.1", "not an IP address"),
        ("url:evil.com/x", "not a URL"),
        ("domain:evil domain.com", "not a host name"),
        ("just words", "cannot tell"),
        ("domain:", "no value"),
        ({"type": "ip", "value": "1.2.3.4", "port": 70000}, "not a TCP/UDP port"),
        (42, "must be 'type:value'"),
    ],
)
def test_analyst_mistakes_are_clear_errors(item: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        analyst_iocs([item], advisory_id="INC-1")  # type: ignore[list-item]


# --- properties and adversarial input ------------------------------------------------------

_TLDS = ["com", "net", "org", "xyz", "help", "cx", "io", "at", "site", "cloud"]
_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,6})?", fullmatch=True)
_DEFANGS = ["{}.{}", "{}[.]{}", "{}(.){}", "{}{{.}}{}", "{}[dot]{}", "{} [.] {}"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    labels=st.lists(_LABEL, min_size=1, max_size=3),
    tld=st.sampled_from(_TLDS),
    style=st.sampled_from(_DEFANGS),
    wrap=st.sampled_from(["{}", "`{}`", "**{}**", "({})", "{},", "<{}>", "[{}]"]),
)
def test_property_defanged_domains_come_back(
    labels: list[str], tld: str, style: str, wrap: str
) -> None:
    host = ".".join([*labels, tld])
    # deliberately not hosts: ``pkg.name``-style code; reference hosts are typed ``reference``
    assume(not (len(labels) == 1 and labels[0] in _CODE_OBJECTS))
    assume(not _is_reference_host(host))
    written = host.split(".")[0]
    for label in [*host.split(".")[1:]]:
        written = style.format(written, label)
    frame = _extract(f"C2 at {wrap.format(written)} observed")
    assert ("domain", host) in _pairs(frame), written


@settings(max_examples=150, deadline=None)
@given(address=st.ip_addresses(v=4), port=st.one_of(st.none(), st.integers(1, 65535)))
def test_property_ipv4_addresses(address: ipaddress.IPv4Address, port: int | None) -> None:
    written = str(address).replace(".", "[.]", 1) + (f":{port}" if port else "")
    frame = _extract(f"connects to {written}.")
    expected = _pairs(frame)
    if address.is_loopback or address.is_unspecified or str(address) == "255.255.255.255":
        assert expected == set()
    else:
        assert expected == {("ip", str(address))}
        assert frame["port"].iloc[0] == port if port else pd.isna(frame["port"].iloc[0])
    # the same quad as a version is not an address
    assert _pairs(_extract(f"upgrade to version {address}")) == set()


@settings(max_examples=100, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=64), pad=st.text("0123456789abcdef", min_size=1, max_size=5)
)
def test_property_hashes_exact_and_bounded(data: bytes, pad: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    assert _pairs(_extract(f"hash `{digest}` seen")) == {("sha256", digest)}
    assert _pairs(_extract(f"hash {digest}{pad} seen")) == set()  # part of a longer hex run


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400))
def test_property_any_text_gives_a_valid_frame(text: str) -> None:
    frame = _extract(text)
    assert not frame.duplicated(["ioc_type", "value", "port"]).any()
    assert frame["value"].str.len().gt(0).all()


_MARKUP = st.sampled_from(
    [*"[](){}<>`*_|.:/@\\~#!,;'\" \n\t-", "[.]", "hxxp", "://", "h**ps", "[dot]", "0x", "é"]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.one_of(_MARKUP, _LABEL, st.sampled_from(_TLDS)), max_size=80))
def test_property_markup_soup_gives_a_valid_frame(parts: list[str]) -> None:
    _extract("".join(parts))
    structured_iocs(
        {"database_specific": {"iocs": {"x": ["".join(parts)]}}},
        advisory_id="A",
        source="s",
        evidence="e",
    )


MEGABYTE = 1_000_000


@pytest.mark.parametrize(
    "text",
    [
        "." * MEGABYTE,
        "a." * (MEGABYTE // 2),
        "a" * MEGABYTE,
        "a " * (MEGABYTE // 2),
        "[.]" * (MEGABYTE // 3),
        "0" * MEGABYTE,
        "1." * (MEGABYTE // 2),
        "`" * MEGABYTE,
        "http://" + "a." * (MEGABYTE // 2),
        "https://evil.com/" + ")" * MEGABYTE,
        "[S: " * (MEGABYTE // 4),
        "repo named x " * (MEGABYTE // 13),
        "\n" * MEGABYTE,
        "@" * MEGABYTE,
        "a[.]b(.)c{.}d[dot]e hxxp[://]f " * (MEGABYTE // 30),
    ],
    ids=lambda t: f"{t[:12]!r}x{len(t)}",
)
def test_a_megabyte_of_adversarial_text_is_read(text: str) -> None:
    # every pattern is linear; a backtracking one would not finish on these
    frame = extract_iocs(text, advisory_id="A", source="s", evidence="e")
    assert len(frame) <= 2
