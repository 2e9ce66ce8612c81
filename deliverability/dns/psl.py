"""The Public Suffix List, loaded once per process from the bundled copy."""

from __future__ import annotations

import functools

from publicsuffixlist import PublicSuffixList

__all__ = ["public_suffix_list"]


@functools.cache
def public_suffix_list() -> PublicSuffixList:
    """Return the shared list from the ``publicsuffixlist`` package's data.

    Parsing the list takes about a third of a second, so every user shares
    one instance; nothing is downloaded.
    """
    return PublicSuffixList()
