"""Incident specs and sources configs: YAML 1.2, clear errors, no secrets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ircore import ConfigError, load_incident, load_sources


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_incident_spec(tmp_path: Path) -> None:
    incident = load_incident(
        _write(
            tmp_path / "i.yaml",
            """
name: chalk/debug
packages:
  chalk: 5.6.1
  debug: ["4.4.2"]
  on: ">=1.0.0 <1.0.2"     # YAML 1.1 would turn this key into True
  no: 1.0.0
advisories: MAL-2025-46969
window: {start: 2025-09-08T13:16:00Z, end: "2025-09-08 15:15"}
""",
        )
    )
    assert incident.packages == {
        "chalk": ["5.6.1"],
        "debug": ["4.4.2"],
        "on": [">=1.0.0 <1.0.2"],
        "no": ["1.0.0"],
    }
    assert incident.advisories == ["MAL-2025-46969"]
    assert incident.window_start == pd.Timestamp("2025-09-08T13:16:00Z")
    assert incident.window_end == pd.Timestamp("2025-09-08T15:15:00Z")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("packages: {chalk: 5.6.1}\n", "'name' is required"),
        ("name: x\n", "name the compromised"),
        ("name: x\npackages: [chalk]\n", "must map package names"),
        ("name: x\npackages: {chalk: 5.6.1}\nwindow: {start: yesterday-ish}\n", "not a date"),
        ("name: x\npackages: {chalk: 5.6.1}\nseverity: high\n", "unknown keys"),
        # each of these would quietly match nothing (a fresh user's "Not affected")
        ('name: x\npackages: {chalk: "5.6.1, 5.6.2"}\n', r"YAML list: \[5.6.1, 5.6.2\]"),
        ('name: x\npackages: {chalk: "5.6.1 5.6.2"}\n', r"YAML list: \[5.6.1, 5.6.2\]"),
        ('name: x\npackages: {chalk: ">=5.6.2 <5.6.1"}\n', "no version can satisfy"),
        ('name: x\npackages: {chalk: ">= 5.6.2, < 5.6.1"}\n', "no version can satisfy"),
        ("name: x\npackages: {chalk: []}\n", "lists no version"),
        ("name: [unclosed\n", "not valid YAML"),
        ("- a list\n", "mapping"),
        ("name: x\npackages: {chalk: 5.6.1}\nnpm_token: abc\n", "environment variables"),
        ("name: x\npackages: {left-pad: 1.30}\n", "quote versions"),
        ("name: x\npackages: {debug: [4.4]}\n", "quote versions"),
        ("name: x\npackages: {chalk: 5.6.1}\nwindow: {start: 2025-13-45}\n", "cannot be read"),
        (
            "name: x\npackages: {chalk: 5.6.1}\nwindow: {start: 2025-09-09, end: 2025-09-08}\n",
            "after",
        ),
        ("name: x\npackages: {chalk: '>=banana'}\n", "not a version or an npm range"),
        (
            "name: x\nsummary: ghp_" + "a" * 36 + "\npackages: {chalk: 5.6.1}\n",
            "looks like a token",
        ),
    ],
)
def test_incident_errors_say_what_is_wrong(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as caught:
        load_incident(_write(tmp_path / "i.yaml", text))
    assert "abc" not in str(caught.value)


def test_missing_incident_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="could not be read"):
        load_incident(tmp_path / "absent.yaml")


def test_sources_resolve_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    sources = load_sources(
        _write(
            tmp_path / "cfg" / "s.yaml",
            "advisories: [../osv]\nrepos: [../repos]\ngit_refs: false\n",
        )
    )
    assert sources.advisories == [(tmp_path / "osv").resolve()]
    assert sources.repos == [(tmp_path / "repos").resolve()]
    assert sources.git_refs is False


def test_yaml_anchors_are_not_a_bomb(tmp_path: Path) -> None:
    bomb = (
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + "repos: [x]\n"
    )
    with pytest.raises(ConfigError):
        load_sources(_write(tmp_path / "s.yaml", bomb))  # unknown keys, refused without expanding


def test_live_sources_and_hosts(tmp_path: Path) -> None:
    sources = load_sources(
        _write(
            tmp_path / "s.yaml",
            "hosts: [scans/]\n"
            "github: {org: larkspur, token_env: GH_READONLY, repos: [web], sbom: false}\n"
            "stepsecurity: {owner: larkspur, customer: tenant-7}\n",
        )
    )
    assert sources.repos == []
    assert sources.hosts == [(tmp_path / "scans").resolve()]
    assert sources.github is not None
    assert (sources.github.org, sources.github.token_env) == ("larkspur", "GH_READONLY")
    assert (sources.github.repos, sources.github.sbom, sources.github.pull_requests) == (
        ["web"],
        False,
        True,
    )
    assert sources.stepsecurity is not None
    assert sources.stepsecurity.key_env == "STEPSECURITY_API_KEY"
    assert sources.stepsecurity.customer == "tenant-7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("git_refs: true\n", "at least one place to look"),
        ("github: {token_env: GITHUB_TOKEN}\n", "needs 'org'"),
        ("github: {org: x, token_env: ghp_abc}\n", "names an environment variable"),
        ("github: {org: x, token: abc}\n", "secrets are read from environment variables"),
        ("github: {org: x, pull_requests: maybe}\n", "must be a bool"),
        ("github: {org: x, colour: red}\n", "unknown keys under 'github'"),
        ("github: [larkspur]\n", "must be a mapping"),
        ("stepsecurity: {key_env: STEPSECURITY_API_KEY}\n", "needs 'owner'"),
        ("stepsecurity: {owner: x, api_key: abc}\n", "secrets are read from environment variables"),
    ],
)
def test_live_sources_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_sources(_write(tmp_path / "s.yaml", text))
