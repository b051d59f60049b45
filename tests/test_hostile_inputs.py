"""Hostile files in a folder scan (issue 3): each becomes one ``problems`` row of the right kind,
and the scan goes on to read the good lockfile beside it.

Every case is a real file (or link, or pipe) built in tmp_path: a cut lockfile, binary bytes,
Latin-1 text, a 201 MiB sparse file, a file nobody may read, links that loop or lead nowhere, a
named pipe, invalid YAML.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from ircore._log import EvidenceLog
from ircore._paths import MAX_INPUT_BYTES, InputRefused, read_bytes
from ircore.inventory import load_inventory
from ircore.inventory._npm import parse_npm_lockfile
from tests._lockfiles import lock_v3

GOOD = lock_v3({"left-pad": "1.3.0"}, dev={"chalk": "4.1.2"}, nested={"ansi-styles": "4.3.0"})
PNPM = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      a:\n"


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _truncated(folder: Path) -> Path:
    return _write(folder / "package-lock.json", GOOD.encode()[: len(GOOD) // 2])


def _binary(folder: Path) -> Path:
    # Bytes no text editor wrote: a NUL, invalid UTF-8 sequences.
    return _write(folder / "package-lock.json", bytes(range(256)) * 8)


def _latin1(folder: Path) -> Path:
    text = '# yarn lockfile v1\n\n"café@^1.0.0":\n  version "1.0.0"\n'
    return _write(folder / "yarn.lock", text.encode("latin-1"))


def _enormous(folder: Path) -> Path:
    # Sparse: 201 MiB on paper, no disk blocks, written in no time.
    path = _write(folder / "package-lock.json", b"")
    with path.open("r+b") as handle:
        handle.truncate(201 * 2**20)
    assert path.stat().st_size > MAX_INPUT_BYTES
    return path


def _unreadable(folder: Path) -> Path:
    path = _write(folder / "pnpm-lock.yaml", PNPM.encode())
    path.chmod(0)
    try:
        path.open("rb").close()
    except PermissionError:
        return path
    path.unlink()
    pytest.skip("this user (root) reads a file with mode 000; nothing here is unreadable")


def _dangling_link(folder: Path) -> Path:
    folder.mkdir(parents=True)
    link = folder / "package-lock.json"
    link.symlink_to(folder / "gone" / "package-lock.json")
    return link


def _file_link_loop(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "other").symlink_to("pnpm-lock.yaml")
    link = folder / "pnpm-lock.yaml"
    link.symlink_to("other")
    return link


def _folder_link_loop(folder: Path) -> Path:
    # A project whose sub-folder links back to the project: the lockfile itself is fine.
    _write(folder / "package-lock.json", GOOD.encode())
    link = folder / "packages" / "loop"
    link.parent.mkdir()
    link.symlink_to("..", target_is_directory=True)
    return link


def _named_pipe(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "package-lock.json"
    os.mkfifo(path)  # nobody writes to it: opening it the usual way blocks forever
    return path


def _invalid_yaml(folder: Path) -> Path:
    text = "lockfileVersion: '9.0'\nimporters:\n  .: {\n  broken: [\nsnapshots: {}\n"
    return _write(folder / "pnpm-lock.yaml", text.encode())


# (builder, expected problem kind, what the message must say)
CASES: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "truncated": (_truncated, "truncated", "truncated"),
    "binary": (_binary, "not-json", "not UTF-8"),  # npm's parser names its kinds so
    "non-utf8": (_latin1, "not-text", "not UTF-8"),
    "enormous": (_enormous, "too-large", "201 MiB"),
    "unreadable": (_unreadable, "unreadable", "ermission denied"),
    "dangling-link": (_dangling_link, "unreadable", "No such file"),
    "file-link-loop": (_file_link_loop, "unreadable", "symbolic links"),
    "folder-link-loop": (_folder_link_loop, "symlink-loop", "loop"),
    "named-pipe": (_named_pipe, "not-a-file", "named pipe"),
    "invalid-yaml": (_invalid_yaml, "invalid", "line 4"),
}


def _good(root: Path) -> Path:
    _write(root / "good" / "package.json", b'{"name": "good", "version": "1.0.0"}\n')
    return _write(root / "good" / "package-lock.json", GOOD.encode())


def _scan(root: Path) -> tuple[pd.DataFrame, EvidenceLog]:
    log = EvidenceLog()
    return load_inventory(root, log=log), log


def _assert_good_rows(inventory: pd.DataFrame, good: Path) -> None:
    expected = {(r["name"], r["version"]) for r in parse_npm_lockfile(good.read_bytes()).rows}
    assert expected == {("left-pad", "1.3.0"), ("chalk", "4.1.2"), ("ansi-styles", "4.3.0")}
    rows = inventory[inventory["evidence"] == str(good)]
    assert set(zip(rows["name"], rows["version"], strict=True)) == expected


@pytest.mark.parametrize("case", list(CASES))
def test_each_hostile_file_is_one_problem_and_the_scan_goes_on(tmp_path: Path, case: str) -> None:
    build, kind, says = CASES[case]
    good = _good(tmp_path)
    bad = build(tmp_path / case)
    inventory, log = _scan(tmp_path)
    problems = log.problems
    mine = problems[problems["evidence"] == str(bad)]
    assert len(mine) == 1, problems.to_dict("records")
    assert mine["kind"].iloc[0] == kind, mine["message"].iloc[0]
    assert says in mine["message"].iloc[0]
    # Nothing else went wrong, and the good lockfile was read in full.
    assert len(problems) == 1, problems.to_dict("records")
    _assert_good_rows(inventory, good)
    assert not log.complete


def test_all_hostile_files_in_one_scan(tmp_path: Path) -> None:
    good = _good(tmp_path)
    bad: dict[str, Path] = {}
    for case, (build, _, _) in CASES.items():
        if case == "folder-link-loop":
            continue  # not a file: reported by the walk, see its own test
        try:
            bad[case] = build(tmp_path / case)
        except pytest.skip.Exception:
            continue  # root reads mode-000 files
    inventory, log = _scan(tmp_path)
    problems = log.problems
    for case, path in bad.items():
        assert (problems["evidence"] == str(path)).sum() == 1, case
    assert len(problems) == len(bad), problems.to_dict("records")
    _assert_good_rows(inventory, good)
    inputs = log.inputs
    failed = set(inputs.loc[inputs["status"] == "failed", "evidence"])
    assert failed == {str(p) for p in bad.values()}


# --- read_bytes itself --------------------------------------------------------------------------


def test_read_bytes_refuses_what_is_not_a_small_regular_file(tmp_path: Path) -> None:
    huge = _enormous(tmp_path / "huge")
    with pytest.raises(InputRefused) as info:
        read_bytes(huge)
    assert info.value.kind == "too-large" and "201 MiB" in str(info.value.strerror)
    pipe = _named_pipe(tmp_path / "pipe")
    with pytest.raises(InputRefused) as info:
        read_bytes(pipe)  # returns at once: the pipe is opened without waiting for a writer
    assert info.value.kind == "not-a-file" and "named pipe" in str(info.value.strerror)
    with pytest.raises(InputRefused) as info:
        read_bytes(tmp_path)
    assert info.value.kind == "not-a-file" and "folder" in str(info.value.strerror)
    if Path("/dev/zero").exists():
        with pytest.raises(InputRefused):
            read_bytes(Path("/dev/zero"))  # would never end
    with pytest.raises(OSError) as loop:
        read_bytes(_file_link_loop(tmp_path / "loop"))
    assert not isinstance(loop.value, InputRefused)


def test_read_bytes_limit(tmp_path: Path) -> None:
    path = _write(tmp_path / "f", b"x" * 100)
    assert read_bytes(path, limit=100) == b"x" * 100
    with pytest.raises(InputRefused):
        read_bytes(path, limit=99)
    assert read_bytes(path, limit=None) == b"x" * 100


def test_a_folder_link_out_of_the_scanned_tree_is_named_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    _write(outside / "package-lock.json", GOOD.encode())
    root = tmp_path / "scan"
    _good(root)
    (root / "good" / "vendor").symlink_to(outside, target_is_directory=True)
    (root / "good" / "same").symlink_to(root / "good", target_is_directory=True)
    (root / "good" / "inside").symlink_to(root, target_is_directory=True)
    log = EvidenceLog()
    frame = load_inventory(root, log=log)
    assert not frame.empty
    kinds = dict(zip(log.problems["evidence"], log.problems["kind"], strict=True))
    assert kinds == {
        str(root / "good" / "vendor"): "not-followed",
        str(root / "good" / "same"): "symlink-loop",
        str(root / "good" / "inside"): "symlink-loop",
    }
