"""Helpers the parser tests share: the shared corpus and the error-kind assertion."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ircore import InputError

SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(relative: str) -> Path:
    """A path under ../shared, or a skip when the shared folder (or that file) is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


def raises_kind(parse: Callable[..., Any], data: bytes, kind: str, **kwargs: Any) -> InputError:
    """Assert ``parse(data)`` raises InputError of ``kind`` with a message an analyst can read."""
    with pytest.raises(InputError) as info:
        parse(data, **kwargs)
    assert info.value.kind == kind, info.value.message
    assert info.value.message
    return info.value
