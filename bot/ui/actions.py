"""The one grammar of every button's and select menu's ``custom_id`` (at most 100 characters).

``ds:<kind>:<state>`` (``ds`` = digest-bot, so other bots' components never collide), with
named kinds; the bot routes a click by its kind (:meth:`bot.client.DigestBot.register_action`)::

    ds:search:<page>:<per>:<ref>   search results page <page> (0-based), <per> results a page
    ds:author:<page>:<per>:<ref>   an author's papers, page <page>
    ds:latest:<page>:<per>:        the newest digest's papers, page <page>
    ds:open:<source>               a select menu whose chosen value is a paper id to open
                                   (<source>: the card it sits on; not used for routing)
    ds:view:<paper id>             open the paper's full card (privately)
    ds:cite:<paper id>             the paper's BibTeX entry (privately)
    ds:full:<paper id>             the paper's full abstract (privately)
    ds:sub:<ref>                   subscribe this channel to the search <ref>
    ds:retry:<per>:<ref>           run the search <ref> ("did you mean" it), <per> a page
    ds:<personal kind>:<arg>       follow / save / unsave / saved / savedbib / vote: the
                                   member's own follows, saved papers and votes; <arg> is
                                   read by the kind's handler (bot.cogs.personal)

``<ref>`` is the query or author key itself, ``=text``, when the whole custom_id fits in
100 characters on any page; otherwise ``#<16 hex>``, a hash whose text the bot keeps in the
database (``meta`` key ``ui.ref.<hash>``). Either way the state survives a restart; a ``#``
ref the database no longer has, or a custom_id that does not parse, is answered with "this
result expired".

Messages posted by older versions carry one-letter kinds (``ds:s:…``, ``ds:o:…``,
``ds:c:<id>``) and the subscribe button's ``dsa:sub:<ref>``; :data:`ALIASES` maps each old
head to its named kind, and the state after it reads the same, so those buttons keep working.
Everything here is pure: no Discord, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from bot.ui.limits import CUSTOM_ID, dlen

PREFIX = "ds:"
# Every custom_id the bot sends, or sent in older versions, matches this; one DynamicItem
# class (bot.ui.views.ActionItem) claims them all and hands them to the one router.
TEMPLATE = re.compile(r"(?:ds|dsa:sub):.*", re.DOTALL)
REF_META_PREFIX = "ui.ref."
MAX_PAGE = 99_999

PageKind = Literal["search", "author", "latest"]
PaperKind = Literal["view", "cite", "full"]
NamedKind = Literal["follow", "save", "unsave", "saved", "savedbib", "vote"]
Kind = Literal[
    "search", "author", "latest", "open", "view", "cite", "full", "sub",
    "follow", "save", "unsave", "saved", "savedbib", "vote", "retry",
]  # fmt: skip
PAGE_KINDS: tuple[PageKind, ...] = get_args(PageKind)
PAPER_KINDS: tuple[PaperKind, ...] = get_args(PaperKind)
NAMED_KINDS: tuple[NamedKind, ...] = get_args(NamedKind)
KINDS: tuple[Kind, ...] = get_args(Kind)

# The heads of the custom_ids older versions sent -> the kind they are now. Never remove
# one: messages posted with them stay in Discord for good.
ALIASES: Mapping[str, Kind] = {
    "ds:s": "search",
    "ds:a": "author",
    "ds:l": "latest",
    "ds:o": "open",
    "ds:v": "view",
    "ds:c": "cite",
    "ds:f": "full",
    "dsa:sub": "sub",
}

_HEAD_RE = re.compile(r"(?P<head>ds:[a-z]+|dsa:sub):(?P<state>.*)", re.DOTALL)
_PAGE_RE = re.compile(r"(?P<page>\d{1,5}):(?P<per>\d{1,2}):(?P<ref>.*)", re.DOTALL)
_RETRY_RE = re.compile(r"(?P<per>\d{1,2}):(?P<ref>.*)", re.DOTALL)
_SOURCE_RE = re.compile(r"[a-z]{1,12}")
_PAPER_ID_RE = re.compile(r"[0-9a-z]{1,64}")
_HASH_RE = re.compile(r"#[0-9a-f]{16}")


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
    kind: Literal["open"] = "open"


@dataclass(frozen=True, slots=True)
class PaperAction:
    """Do ``kind`` with one paper: open its card, cite it, or show its full abstract."""

    kind: PaperKind
    paper_id: str


@dataclass(frozen=True, slots=True)
class SubscribeAction:
    """Subscribe the channel clicked in to the search whose ref is ``ref``."""

    ref: str  # "=query" or "#hash"
    kind: Literal["sub"] = "sub"


@dataclass(frozen=True, slots=True)
class RetryAction:
    """Run the search whose ref is ``ref`` (a "did you mean" respelling), ``per`` a page."""

    per: int
    ref: str  # "=query" or "#hash"
    kind: Literal["retry"] = "retry"


@dataclass(frozen=True, slots=True)
class NamedAction:
    """A component whose handler reads its state itself (``ds:<kind>:<arg>``)."""

    kind: NamedKind
    arg: str

    @property
    def name(self) -> str:
        return self.kind


Action = PageAction | OpenAction | PaperAction | SubscribeAction | RetryAction | NamedAction


def custom_id(action: Action) -> str:
    """The custom_id of ``action`` (:func:`parse` reads it back)."""
    if isinstance(action, PageAction):
        page = min(max(action.page, 0), MAX_PAGE)
        return f"{PREFIX}{action.kind}:{page}:{action.per}:{action.ref}"
    if isinstance(action, OpenAction):
        return f"{PREFIX}open:{action.source}"
    if isinstance(action, PaperAction):
        return f"{PREFIX}{action.kind}:{action.paper_id}"
    if isinstance(action, NamedAction):
        return f"{PREFIX}{action.kind}:{action.arg}"
    if isinstance(action, RetryAction):
        return f"{PREFIX}retry:{action.per}:{action.ref}"
    return f"{PREFIX}sub:{action.ref}"


def named_custom_id(kind: str, arg: str) -> str:
    """``ds:<kind>:<arg>`` for a named kind; raises ValueError for another kind or when it
    would not fit in a custom_id."""
    named = next((k for k in NAMED_KINDS if k == kind), None)
    if named is None:
        raise ValueError(f"not a named component kind: {kind!r}")
    cid = custom_id(NamedAction(named, arg))
    if dlen(cid) > CUSTOM_ID:
        raise ValueError(f"custom_id too long: {cid!r}")
    return cid


def ref_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def make_ref(kind: PageKind, per: int, text: str) -> tuple[str, bool]:
    """The ``<ref>`` for ``text`` and whether the bot must store it (a ``#hash`` ref).

    Inline when the page custom_id fits in 100 characters on any page (up to
    :data:`MAX_PAGE`); the subscribe button's custom_id is shorter than any page's.
    """
    inline = "=" + text
    if dlen(custom_id(PageAction(kind, MAX_PAGE, per, inline))) <= CUSTOM_ID:
        return inline, False
    return "#" + ref_hash(text), True


def ref_meta_key(ref: str) -> str:
    """The ``meta`` key under which a ``#hash`` ref's text is stored."""
    return REF_META_PREFIX + ref[1:]


def inline_text(ref: str) -> str | None:
    """The text of an ``=text`` ref; ``None`` for a ``#hash`` ref (look it up in meta)."""
    return ref[1:] if ref.startswith("=") else None


def kind_of(custom_id: str) -> Kind | None:
    """The kind a custom_id names (old one-letter heads included), without reading its
    state; ``None`` when it is not one of ours."""
    head = _HEAD_RE.fullmatch(custom_id)
    return None if head is None else _kind(head["head"])


def parse(custom_id: str) -> Action | None:
    """The action a custom_id encodes (old ones too), or ``None`` when it is not one of ours
    (any more)."""
    if dlen(custom_id) > CUSTOM_ID:
        return None
    head = _HEAD_RE.fullmatch(custom_id)
    kind = None if head is None else _kind(head["head"])
    if head is None or kind is None:
        return None
    state: str = head["state"]
    if kind == "search" or kind == "author" or kind == "latest":
        page = _PAGE_RE.fullmatch(state)
        if page is None or int(page["per"]) < 1 or not _valid_ref(kind, page["ref"]):
            return None
        return PageAction(kind, int(page["page"]), int(page["per"]), page["ref"])
    if kind == "open":
        return OpenAction(state) if _SOURCE_RE.fullmatch(state) else None
    if kind == "sub":
        return SubscribeAction(state) if _valid_ref("search", state) else None
    if kind == "retry":
        retry = _RETRY_RE.fullmatch(state)
        if retry is None or int(retry["per"]) < 1 or not _valid_ref("search", retry["ref"]):
            return None
        return RetryAction(int(retry["per"]), retry["ref"])
    if kind == "view" or kind == "cite" or kind == "full":
        return PaperAction(kind, state) if _PAPER_ID_RE.fullmatch(state) else None
    return NamedAction(kind, state)


def _kind(head: str) -> Kind | None:
    alias = ALIASES.get(head)
    if alias is not None:
        return alias
    name = head[len(PREFIX) :]
    for kind in KINDS:
        if kind == name:
            return kind
    return None


def _valid_ref(kind: PageKind, ref: str) -> bool:
    if kind == "latest":
        return ref == ""
    if ref.startswith("="):
        return len(ref) > 1
    return _HASH_RE.fullmatch(ref) is not None
