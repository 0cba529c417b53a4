"""Structures derived from one index, built once on first use and dropped with the index.

Lookups (:mod:`bot.core.lookup`, :mod:`bot.core.title_bits`) derive tables from an index's
:class:`~bot.core.index.LookupVocabulary` (sorted words, prefix tables, author rankings,
title-word bitsets). :func:`per_vocabulary` is the one way they keep them: a weak-keyed cache
(an index that is replaced takes its tables with it), filled under a lock with a second look,
so two threads asking at once build a table once.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

from bot.core.index import LookupVocabulary

__all__ = ["per_vocabulary"]

T = TypeVar("T")


def per_vocabulary(build: Callable[[LookupVocabulary], T]) -> Callable[[LookupVocabulary], T]:
    """``build(known)``, computed once per vocabulary (thread-safe) and cached while the
    vocabulary lives. What ``build`` returns must not hold ``known`` (a value referring to
    its weak key keeps the key, and a replaced index, alive)."""
    cache: weakref.WeakKeyDictionary[LookupVocabulary, T] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    def get(known: LookupVocabulary) -> T:
        found = cache.get(known)
        if found is None:
            with lock:
                found = cache.get(known)
                if found is None:
                    found = cache[known] = build(known)
        return found

    get.__doc__ = build.__doc__
    return get
