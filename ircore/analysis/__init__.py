"""Analysis: pure functions over evidence frames."""

from ircore.analysis._exposure import match_exposure

__all__ = ["match_exposure"]
