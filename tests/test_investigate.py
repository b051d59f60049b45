"""investigate(): every source counts, and what could not be used is said."""

from __future__ import annotations

from pathlib import Path

from ircore import investigate
from tests._lockfiles import lock_v3


def _files(tmp_path: Path, *, incident: str, lists: dict[str, str]) -> tuple[Path, Path]:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "package-lock.json").write_text(
        lock_v3({"chalk": "5.6.2"}, nested={"02-echo": "0.0.7"})
    )
    for name, text in lists.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "incident.yaml").write_text(incident)
    (tmp_path / "sources.yaml").write_text(
        f"advisories: {sorted(lists)}\nrepos: [proj]\ngit_refs: false\n"
    )
    return tmp_path / "incident.yaml", tmp_path / "sources.yaml"


def test_a_list_given_as_source_is_used_beyond_the_incident_packages(tmp_path: Path) -> None:
    """User report: the incident named chalk only; a worm list in the sources was ignored."""
    incident, sources = _files(
        tmp_path,
        incident="name: chalk\npackages: {chalk: ['5.6.1']}\n",
        lists={"worm.csv": "# source: test\nname,version\n02-echo,0.0.7\n"},
    )
    inv = investigate(incident, sources)
    assert set(zip(inv.exposure["name"], inv.exposure["advisory_id"], strict=True)) == {
        ("02-echo", "list:worm")
    }


def test_an_advisory_id_missing_from_the_sources_is_a_problem(tmp_path: Path) -> None:
    incident, sources = _files(
        tmp_path,
        incident="name: x\nadvisories: [MAL-0000-1]\n",
        lists={"l.csv": "name,version\nchalk,5.6.1\n"},
    )
    inv = investigate(incident, sources)
    assert list(inv.problems["kind"]) == ["not-found"]
    assert not inv.complete
