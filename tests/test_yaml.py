"""The lockfile YAML loader (ircore._yaml): YAML 1.2 core and failsafe schemas, refusals, and
the libyaml and pure-Python parsers agreeing on every real lockfile."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ircore import _yaml
from ircore._yaml import Backend, YAMLLoadError, load_yaml, load_yaml_documents
from ircore.inventory._pnpm import parse_pnpm_lockfile
from ircore.inventory._yarn import parse_yarn_lockfile
from tests._shared import SHARED, raises_kind

BACKENDS = [
    pytest.param(
        "libyaml",
        marks=pytest.mark.skipif(_yaml.BACKEND != "libyaml", reason="PyYAML lacks libyaml"),
    ),
    "ruamel",
]
needs_libyaml = pytest.mark.skipif(_yaml.BACKEND != "libyaml", reason="PyYAML lacks libyaml")


def _corpus_yaml() -> list[Path]:
    """Every pnpm-lock.yaml and Berry yarn.lock of ../shared (corpus and cases)."""
    found = [
        *SHARED.glob("corpus/lockfiles/*/*/pnpm-lock.yaml"),
        *SHARED.glob("corpus/lockfiles/*/*/yarn.lock"),
        *SHARED.glob("cases/lockfiles/*/pnpm-lock.yaml"),
        *SHARED.glob("cases/lockfiles/*/yarn.lock"),
    ]
    return sorted(p for p in found if p.name == "pnpm-lock.yaml" or _is_berry(p))


def _is_berry(path: Path) -> bool:
    return any(line.startswith("__metadata:") for line in path.read_text().splitlines())


def _schema(path: Path) -> Any:
    return "core" if path.name == "pnpm-lock.yaml" else "failsafe"


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(SHARED)) for p in paths]


CORPUS = _corpus_yaml() if SHARED.is_dir() else []


def _error(text: str, **options: Any) -> YAMLLoadError:
    with pytest.raises(YAMLLoadError) as info:
        load_yaml_documents(text, **options)
    return info.value


# --- YAML 1.2 core schema -----------------------------------------------------------------------

YES_NO = ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "Y", "N"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_yaml_1_1_booleans_stay_names_as_keys_and_values(backend: Backend) -> None:
    text = "".join(f"{word}: {word}\n" for word in YES_NO)
    assert load_yaml(text, backend=backend) == {word: word for word in YES_NO}


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_true_and_false_are_booleans(backend: Backend) -> None:
    text = "a: [true, True, TRUE, false, False, FALSE, tRUE, 'true']\ntrue: 1\nFALSE: 2\n"
    assert load_yaml(text, backend=backend) == {
        "a": [True, True, True, False, False, False, "tRUE", "true"],
        True: 1,
        False: 2,
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_core_numbers_nulls_and_what_stays_text(backend: Backend) -> None:
    text = (
        "decimal: 010\noctal: 0o17\nhex: 0x1F\nsigned: -3\nfloat: 5.4\nexp: 1e3\n"
        "inf: -.inf\nversion: 1.2.3\nsexagesimal: 1:30\nunderscore: 1_000\nbinary: 0b11\n"
        "date: 2024-01-02\nnull: ~\nempty:\nquoted: '5.4'\n"
    )
    assert load_yaml(text, backend=backend) == {
        "decimal": 10,  # YAML 1.2: decimal, not YAML 1.1's octal 8
        "octal": 15,
        "hex": 31,
        "signed": -3,
        "float": 5.4,
        "exp": 1000.0,
        "inf": -math.inf,
        "version": "1.2.3",
        "sexagesimal": "1:30",  # YAML 1.1 read 90
        "underscore": "1_000",
        "binary": "0b11",
        "date": "2024-01-02",  # no timestamps in the core schema
        None: None,
        "empty": None,
        "quoted": "5.4",
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_failsafe_keeps_every_scalar_as_written(backend: Backend) -> None:
    text = "version: 8\nlist: [1.10, true, yes, ~, 0o17]\nempty:\n"
    assert load_yaml(text, schema="failsafe", backend=backend) == {
        "version": "8",
        "list": ["1.10", "true", "yes", "~", "0o17"],
        "empty": "",
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_explicit_tags(backend: Backend) -> None:
    assert load_yaml("a: !!str 5.4\nb: ! yes\nc: !!int 7\n", backend=backend) == {
        "a": "5.4",
        "b": "yes",
        "c": 7,
    }
    assert _error("a: !!int 5.4\n", backend=backend).reason == "tag"
    assert _error("a: !!binary aGk=\n", backend=backend).reason == "tag"
    error = _error("a: 1\nb: !custom x\n", backend=backend)
    assert (error.reason, error.line) == ("tag", 2)
    # Failsafe ignores tags as yarn's reader does: everything is text.
    assert load_yaml("a: !!int 7\n", schema="failsafe", backend=backend) == {"a": "7"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_merge_keys_are_refused_in_core_and_text_in_failsafe(backend: Backend) -> None:
    text = "a:\n  <<: {b: 1}\n  c: 2\n"
    error = _error(text, backend=backend)
    assert (error.reason, error.line) == ("key", 2)
    assert load_yaml(text, schema="failsafe", backend=backend) == {
        "a": {"<<": {"b": "1"}, "c": "2"}
    }
    assert load_yaml("a: '<<'\n", backend=backend) == {"a": "<<"}


# --- documents ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_document_is_read(backend: Backend) -> None:
    text = "a: 1\n---\nb: 2\n--- \n...\n---\n- c\n"
    assert load_yaml_documents(text, backend=backend) == [{"a": 1}, {"b": 2}, None, ["c"]]
    assert load_yaml_documents("", backend=backend) == []
    assert load_yaml_documents("# only a comment\n", backend=backend) == []
    with pytest.raises(YAMLLoadError) as info:
        load_yaml("a: 1\n---\nb: 2\n", backend=backend)
    assert info.value.reason == "documents"


@pytest.mark.parametrize("backend", BACKENDS)
def test_anchors_do_not_cross_documents(backend: Backend) -> None:
    error = _error("a: &v 1\n---\nb: *v\n", backend=backend)
    assert (error.reason, error.line) == ("undefined-alias", 3)


# --- aliases ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("schema", ["core", "failsafe"])
def test_scalar_aliases_are_resolved(backend: Backend, schema: Any) -> None:
    loaded = load_yaml("a: &v 1.0.0\nb: *v\n*v : c\n", schema=schema, backend=backend)
    assert loaded == {"a": "1.0.0", "b": "1.0.0", "1.0.0": "c"}


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]")
    return "\n".join(lines) + f"\nall: *a{levels - 1}\n"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("schema", ["core", "failsafe"])
def test_billion_laughs_is_refused_at_its_first_alias(backend: Backend, schema: Any) -> None:
    # 9**30 strings if anything expanded it: the test only finishes because nothing does.
    error = _error(_bomb(30), schema=schema, backend=backend)
    assert (error.reason, error.line, error.column) == ("alias", 2, 10)
    assert "*a0" in error.problem


@pytest.mark.parametrize("backend", BACKENDS)
def test_recursive_and_mapping_aliases_are_refused(backend: Backend) -> None:
    assert _error("a: &x [*x]\n", backend=backend).reason == "alias"
    error = _error("base: &b\n  k: v\nother:\n  x: *b\n", backend=backend)
    assert (error.reason, error.line) == ("alias", 4)
    assert _error("a: *nowhere\n", backend=backend).reason == "undefined-alias"


def test_parsers_refuse_bombs_with_their_own_messages() -> None:
    pnpm = raises_kind(
        parse_pnpm_lockfile, b"lockfileVersion: '9.0'\n" + _bomb(12).encode(), "unsupported"
    )
    assert "line 3" in pnpm.message and "alias" in pnpm.message
    berry = b"__metadata:\n  version: 8\n" + _bomb(12).encode()
    yarn = raises_kind(parse_yarn_lockfile, berry, "unsupported")
    assert "line 4" in yarn.message and "alias" in yarn.message


# --- malformed YAML -----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("text", "line"),
    [
        # cut short: the error is at the end of the last line, not on a line past it
        ("a:\n  b: {c: 1\n", 2),
        ("a: 'unterminated\n", 1),
        ("a: 1\nb: [1, 2\nc: 3\n", 3),
        ("a: 1\n b: 2\n", 2),
        ("- a\nb: c\n", 2),
    ],
)
def test_syntax_errors_name_their_line(backend: Backend, text: str, line: int) -> None:
    error = _error(text, backend=backend)
    assert (error.reason, error.line) == ("syntax", line), error
    assert f"line {line}" in str(error)


@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_text_fails_on_its_last_line(backend: Backend) -> None:
    text = "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha5"
    error = _error(text, backend=backend)
    assert (error.reason, error.line, error.column) == (
        "syntax",
        4,
        len("    resolution: {integrity: sha5") + 1,
    )
    # Where the unclosed bracket started is said too.
    assert "flow mapping that starts at line 4" in error.problem
    error = _error("a: [1,\n   2,\n   3\nb: 1\n", backend=backend)
    assert "starts at line 1" in error.problem


def test_truncated_pnpm_lockfile_is_reported_as_truncated() -> None:
    text = b"lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha5"
    error = raises_kind(parse_pnpm_lockfile, text, "truncated")
    assert "line 4" in error.message


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicate_keys_and_collection_keys(backend: Backend) -> None:
    error = _error("a: 1\nb: 2\na: 3\n", backend=backend)
    assert (error.reason, error.line) == ("duplicate-key", 3)
    # 010 and 10 are one key in the core schema, two in failsafe.
    assert _error("010: a\n10: b\n", backend=backend).reason == "duplicate-key"
    assert load_yaml("010: a\n10: b\n", schema="failsafe", backend=backend) == {
        "010": "a",
        "10": "b",
    }
    assert _error("? [a]\n: b\n", backend=backend).reason == "key"


@pytest.mark.parametrize("backend", BACKENDS)
def test_depth_limit(backend: Backend) -> None:
    assert load_yaml("a: " + "[" * 99 + "]" * 99 + "\n", backend=backend, max_depth=100)
    error = _error("a: " + "[" * 100 + "]" * 100 + "\n", backend=backend, max_depth=100)
    assert (error.reason, error.line) == ("depth", 1)
    # Far deeper than any recursion limit: refused where the limit is crossed, no crash.
    assert _error("x: " + "{a: " * 200_000 + "\n", backend=backend).reason == "depth"


@pytest.mark.parametrize("backend", BACKENDS)
def test_characters_yaml_forbids(backend: Backend) -> None:
    error = _error("a: é\nc: d\x01e\n", backend=backend)
    assert (error.reason, error.line, error.column) == ("syntax", 2, 5)
    assert "#x0001" in error.problem


# --- the two parsers agree ----------------------------------------------------------------------


@needs_libyaml
@pytest.mark.parametrize("path", CORPUS, ids=_ids(CORPUS))
def test_libyaml_and_fallback_agree_on_real_lockfiles(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    fast = load_yaml_documents(text, schema=_schema(path), backend="libyaml")
    fallback = load_yaml_documents(text, schema=_schema(path), backend="ruamel")
    assert fast and fast == fallback


@pytest.mark.parametrize("path", CORPUS, ids=_ids(CORPUS))
def test_same_values_as_ruamels_own_loader(path: Path) -> None:
    # What the parsers read before ircore._yaml: ruamel's YAML 1.2 "safe" loader for pnpm, its
    # all-strings "base" loader for Berry. Real lockfiles must read the same.
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    typ = "safe" if _schema(path) == "core" else "base"
    reference = list(YAML(typ=typ, pure=True).load_all(text))
    assert load_yaml_documents(text, schema=_schema(path)) == reference


@needs_libyaml
@pytest.mark.parametrize("path", CORPUS, ids=_ids(CORPUS))
def test_parsers_give_the_same_rows_with_either_backend(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = parse_pnpm_lockfile if path.name == "pnpm-lock.yaml" else parse_yarn_lockfile
    manifest = path.with_name("package.json")
    data = path.read_bytes()
    kwargs = {"manifest": manifest.read_bytes()} if manifest.is_file() else {}
    fast = parse(data, **kwargs)
    monkeypatch.setattr(_yaml, "BACKEND", "ruamel")
    fallback = parse(data, **kwargs)
    assert fast.rows and (fast.format, fast.rows, fast.warnings) == (
        fallback.format,
        fallback.rows,
        fallback.warnings,
    )


_WORDS = st.sampled_from(
    [
        "a",
        "yes",
        "no",
        "on",
        "1.0.0",
        "5.4",
        "010",
        "0x1F",
        "1e3",
        "@s/c@1.0.0(b@2.0.0)",
        "link:../x",
        "sha512-AAAA==",
        "https://registry.npmjs.org/a/-/a-1.0.0.tgz",
        "null",
        "~",
        "",
        "true",
        "a b: c",
        "- x",
        "#hash",
        "multi\nline",
        "ünïcode",
    ]
)
_TREES = st.recursive(
    st.one_of(_WORDS, st.integers(), st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_WORDS, inner, max_size=5)
    ),
    max_leaves=40,
)


@needs_libyaml
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TREES, st.booleans(), st.sampled_from(["core", "failsafe"]))
def test_parsers_agree_on_generated_documents(tree: Any, flow: bool, schema: Any) -> None:
    import yaml  # PyYAML's emitter writes the text both parsers then read

    text = yaml.safe_dump(tree, default_flow_style=flow, allow_unicode=True)
    fast = load_yaml_documents(text, schema=schema, backend="libyaml")
    assert fast == load_yaml_documents(text, schema=schema, backend="ruamel")
