"""The top bar's "加入讲稿 Add to tour" control and its dialog (issue 8 §3; H3 fills it in).

``tools()`` returns the components the shell puts in its top bar, on every page: none until tours exist.
"""
from __future__ import annotations


def tools() -> list:
    """Return the top bar's tour controls."""
    return []
