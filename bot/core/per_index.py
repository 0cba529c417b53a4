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


def per_vocabulary(
    build: Callable[[LookupVocabulary], T],
    extend: Callable[[T, LookupVocabulary], T | None] | None = None,
) -> Callable[[LookupVocabulary], T]:
    """``build(known)``, computed once per vocabulary (thread-safe) and cached while the
    vocabulary lives. What ``build`` returns must not hold ``known`` (a value referring to
    its weak key keeps the key, and a replaced index, alive). ``extend(value, known)``, when
    given, makes ``known``'s value from the one built for the vocabulary of the index it
    updates (``known.previous()``), if that is cached (None: it cannot, ``build`` runs)."""
    cache: weakref.WeakKeyDictionary[LookupVocabulary, T] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    def make(known: LookupVocabulary) -> T:
        prior = None if extend is None else known.previous()
        before = None if prior is None else cache.get(prior)
        made = None if extend is None or before is None else extend(before, known)
        return build(known) if made is None else made

    def get(known: LookupVocabulary) -> T:
        found = cache.get(known)
        if found is None:
            with lock:
                found = cache.get(known)
                if found is None:
                    found = cache[known] = make(known)
        return found

    get.__doc__ = build.__doc__
    return get
