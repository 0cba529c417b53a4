"""The state a button or select menu carries in its ``custom_id`` (at most 100 characters).

Grammar (``ds`` = digest-bot, so other bots' or future components never collide)::

    ds:s:<page>:<per>:<ref>     search results page <page> (0-based), <per> results a page
    ds:a:<page>:<per>:<ref>     an author's papers, page <page>
    ds:l:<page>:<per>:          the newest digest's papers, page <page>
    ds:o:<source>               a select menu whose chosen value is a paper id to open
    ds:v:<paper id>             open the paper's full card (privately)
    ds:c:<paper id>             the paper's BibTeX entry (privately)
    ds:f:<paper id>             the paper's full abstract (privately)
    ds:<name>:<arg>             a named kind (two or more letters, e.g. ``save``, ``vote``):
                                ``arg`` is the rest, read by the kind's handler

``<ref>`` is the query or author key itself, ``=text``, when the whole custom_id fits in
100 characters; otherwise ``#<16 hex>``, a hash whose text the bot keeps in the database
(``meta`` key ``ui.ref.<hash>``). Either way the state survives a restart; a ``#`` ref the
database no longer has, or a custom_id that does not parse, is answered with "this result
expired". Everything here is pure: no Discord, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

from bot.ui.limits import CUSTOM_ID, dlen

PREFIX = "ds:"
# Every custom_id the bot sends matches this; one DynamicItem class routes them all.
TEMPLATE = re.compile(r"ds:(?P<body>.*)", re.DOTALL)
REF_META_PREFIX = "ui.ref."
MAX_PAGE = 99_999

PageKind = Literal["s", "a", "l"]
PAGE_KINDS: tuple[PageKind, ...] = ("s", "a", "l")
PaperKind = Literal["v", "c", "f"]
PAPER_KINDS: tuple[PaperKind, ...] = ("v", "c", "f")

_PAGE_RE = re.compile(r"(?P<kind>[sal]):(?P<page>\d{1,5}):(?P<per>\d{1,2}):(?P<ref>.*)", re.DOTALL)
_OPEN_RE = re.compile(r"o:(?P<source>[a-z]{1,12})")
_PAPER_RE = re.compile(r"(?P<kind>[vcf]):(?P<id>[0-9a-z]{1,64})")
_HASH_RE = re.compile(r"#[0-9a-f]{16}")
_NAMED_RE = re.compile(r"(?P<name>[a-z]{2,12}):(?P<arg>.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class PageAction:
    """Show page ``page`` of a paged card."""

    kind: PageKind
    page: int
    per: int
    ref: str  # "=text", "#hash" or "" (latest)


@dataclass(frozen=True, slots=True)
class OpenAction:
    """Open the paper chosen in a select menu (the id comes with the interaction's values)."""

    source: str


@dataclass(frozen=True, slots=True)
class PaperAction:
    """Do ``kind`` with one paper: ``v`` open its card, ``c`` cite it, ``f`` its abstract."""

    kind: PaperKind
    paper_id: str


@dataclass(frozen=True, slots=True)
class NamedAction:
    """A component of a named kind (``ds:<name>:<arg>``); its handler reads ``arg``."""

    name: str
    arg: str


Action = PageAction | OpenAction | PaperAction | NamedAction


def named_custom_id(name: str, arg: str) -> str:
    """``ds:<name>:<arg>``; raises ValueError when it would not fit in a custom_id."""
    if _NAMED_RE.fullmatch(f"{name}:{arg}") is None:
        raise ValueError(f"not a component kind name: {name!r}")
    custom_id = f"{PREFIX}{name}:{arg}"
    if dlen(custom_id) > CUSTOM_ID:
        raise ValueError(f"custom_id too long: {custom_id!r}")
    return custom_id


def ref_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def make_ref(kind: PageKind, per: int, text: str) -> tuple[str, bool]:
    """The ``<ref>`` for ``text`` and whether the bot must store it (a ``#hash`` ref).

    Inline when the custom_id fits in 100 characters on any page (up to :data:`MAX_PAGE`).
    """
    inline = "=" + text
    if dlen(page_custom_id(kind, MAX_PAGE, per, inline)) <= CUSTOM_ID:
        return inline, False
    return "#" + ref_hash(text), True


def ref_meta_key(ref: str) -> str:
    """The ``meta`` key under which a ``#hash`` ref's text is stored."""
    return REF_META_PREFIX + ref[1:]


def page_custom_id(kind: PageKind, page: int, per: int, ref: str) -> str:
    return f"{PREFIX}{kind}:{min(max(page, 0), MAX_PAGE)}:{per}:{ref}"


def open_custom_id(source: str) -> str:
    return f"{PREFIX}o:{source}"


def paper_custom_id(kind: PaperKind, paper_id: str) -> str:
    return f"{PREFIX}{kind}:{paper_id}"


def parse(custom_id: str) -> Action | None:
    """The action a custom_id encodes, or ``None`` when it is not one of ours any more."""
    if not custom_id.startswith(PREFIX) or dlen(custom_id) > CUSTOM_ID:
        return None
    body = custom_id[len(PREFIX) :]
    page = _PAGE_RE.fullmatch(body)
    if page is not None:
        kind: PageKind = page["kind"]  # type: ignore[assignment]  # the regex allows only s|a|l
        per = int(page["per"])
        ref = page["ref"]
        if per < 1 or not _valid_ref(kind, ref):
            return None
        return PageAction(kind=kind, page=int(page["page"]), per=per, ref=ref)
    opened = _OPEN_RE.fullmatch(body)
    if opened is not None:
        return OpenAction(source=opened["source"])
    paper = _PAPER_RE.fullmatch(body)
    if paper is not None:
        paper_kind: PaperKind = paper["kind"]  # type: ignore[assignment]  # only v|c|f
        return PaperAction(kind=paper_kind, paper_id=paper["id"])
    named = _NAMED_RE.fullmatch(body)
    if named is not None:
        return NamedAction(name=named["name"], arg=named["arg"])
    return None


def kind_of(action: Action) -> str:
    """The kind a handler is registered under (``register_action``)."""
    if isinstance(action, PageAction | PaperAction):
        return action.kind
    if isinstance(action, NamedAction):
        return action.name
    return "o"


def _valid_ref(kind: PageKind, ref: str) -> bool:
    if kind == "l":
        return ref == ""
    if ref.startswith("="):
        return len(ref) > 1
    return _HASH_RE.fullmatch(ref) is not None


def inline_text(ref: str) -> str | None:
    """The text of an ``=text`` ref; ``None`` for a ``#hash`` ref (look it up in meta)."""
    return ref[1:] if ref.startswith("=") else None
