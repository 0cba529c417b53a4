"""Reindex, step 2: which digest gives a paper its text (the newest), and what differs.

A digest's date is the last valid ``YYYY-MM-DD`` in its file name, else the modification
time of the file when its current content was indexed; on the same date, the later file name
wins. Digests not read this time are judged through the catalogue (:func:`arbitrate`, from
:meth:`~bot.store.papers.PaperStore.appearances`): the stored text of a paper is its source's
at the last reindex, so it is kept, or the new source is read again. Two versions that differ
give a warning naming both places (:meth:`Judgement.conflicts`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.digests import date_from_name
from bot.core.models import Diagnostic, Paper
from bot.store.papers import Appearance, DigestStamp
from bot.store.reindex_write import DigestContent, entry_hash


@dataclass(frozen=True, slots=True)
class Dated:
    """A digest's date: from its name (a day, UTC) or its content's modification time."""

    ns: int
    from_name: bool

    def __str__(self) -> str:
        moment = datetime.fromtimestamp(self.ns / 1e9, UTC)
        if self.from_name:
            return moment.strftime("%Y-%m-%d")
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC (modified)")


class Dates:
    """Digest dates: the last valid ``YYYY-MM-DD`` in the file name, else the modification
    time of the file when its current content was indexed."""

    def __init__(self, stamps: Mapping[str, DigestStamp]) -> None:
        self.stamps = stamps
        self.current: dict[str, Dated] = {}

    def old(self, path: str) -> Dated:
        """The date the catalogue has for a digest (as of before this reindex)."""
        stamp = self.stamps.get(path)
        return _name_date(path) or Dated(stamp.content_mtime_ns if stamp else 0, False)

    def new(self, path: str, digest_hash: str, mtime_ns: int) -> Dated:
        """The date of a digest read now: unchanged content keeps its date."""
        stamp = self.stamps.get(path)
        if stamp is not None and stamp.content_hash == digest_hash:
            mtime_ns = stamp.content_mtime_ns
        dated = _name_date(path) or Dated(mtime_ns, False)
        self.current[path] = dated
        return dated

    def now(self, path: str) -> Dated:
        """The date after this reindex (a digest not read now keeps the one it had)."""
        return self.current.get(path) or self.old(path)


def _name_date(path: str) -> Dated | None:
    day = date_from_name(path)
    if day is None:
        return None
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return Dated(int(midnight.timestamp()) * 10**9, True)


@dataclass(slots=True)
class Judgement:
    """For the papers of this reindex: which digest gives each its text.

    ``keep``: stored papers whose text comes from a digest not read now (it stays);
    ``extra``: digests not read now that become a paper's source (to read and add);
    ``decided``: the papers held by a digest not read now (judged here);
    ``winner``: of those, the ones whose source is a digest not read now, and that digest;
    ``stored_from``: for such a paper, the unread digest (and line) its stored text is from,
    when that digest still holds it (for the warning, compared with the text read now).
    """

    contents: list[DigestContent]
    keep: set[str] = field(default_factory=set)
    extra: set[str] = field(default_factory=set)
    decided: set[str] = field(default_factory=set)
    winner: dict[str, str] = field(default_factory=dict)
    stored_from: dict[str, tuple[str, int, str, str]] = field(default_factory=dict)
    added: list[DigestContent] = field(default_factory=list)

    def with_extra(self, added: Sequence[DigestContent]) -> Judgement:
        """Add the re-read digests. Their other papers were judged by no one: each is held
        only by digests not read now, so its stored text is its source's and stays."""
        for content in added:
            for paper in content.papers:
                if paper.key not in self.decided:
                    self.keep.add(paper.key)
        missing = self.extra - {c.path for c in added}
        for key, path in self.winner.items():
            if path in missing:  # could not be read again: leave the stored text alone
                self.keep.add(key)
        self.added = list(added)
        self.contents = [*self.contents, *added]
        return self

    def stored_ids(self) -> list[str]:
        return sorted({paper_id for _, _, paper_id, _ in self.stored_from.values()})

    def conflicts(self, dates: Dates, stored: Mapping[str, Paper]) -> list[Diagnostic]:
        """A warning for every version of a paper that differs from the one used, located at
        that version and naming the place of the one used."""
        if len(self.contents) < 2 and not self.stored_from:
            return []
        versions: dict[str, list[tuple[str, int, Paper]]] = {}
        seen: set[str] = set()
        repeated: set[str] = set()
        for content in self.contents:
            for paper in content.papers:
                (repeated if paper.key in seen else seen).add(paper.key)
        for content in self.contents:
            for paper in content.papers:
                if paper.key in repeated or paper.key in self.stored_from:
                    versions.setdefault(paper.key, []).append((content.path, paper.line, paper))
        for key, (path, line, _, stored_hash) in self.stored_from.items():
            text = stored.get(key)
            if text is not None and any(entry_hash(p) != stored_hash for *_, p in versions[key]):
                versions[key].append((path, line, text))
        warnings: dict[tuple[str, int, str], Diagnostic] = {}  # one per place and paper
        for key, found in versions.items():
            if key in self.keep and key not in self.stored_from:
                continue  # its text stays, from a digest that could not be read again
            used = max(found, key=lambda v: (dates.now(v[0]).ns, v[0]))
            for path, line, paper in found:
                fields = _differences(paper, used[2])
                if path == used[0] or not fields:
                    continue
                warnings[path, line, key] = Diagnostic(
                    path,
                    line,
                    f"{paper.title[:60]!r} is also at {used[0]}:{used[1]} with a different "
                    f"{fields}; the text at {used[0]}:{used[1]} is used "
                    f"({_because(dates.now(used[0]), dates.now(path))})",
                    "warning",
                )
        return list(warnings.values())


def arbitrate(
    contents: Sequence[DigestContent],
    appearances: Sequence[Appearance],
    dates: Dates,
    gone: Collection[str],
    unreadable: Collection[str],
) -> Judgement:
    """Decide, for every paper of ``contents`` or of a digest read or gone now that a digest
    not read now also holds, which digest is its source (the newest holding it after this
    reindex) and what that asks for: keep the stored text, or read that digest too.

    The stored text of a paper is its source's at the last reindex (the newest digest then
    holding it), which is how digests not read now are judged without reading them."""
    judged = Judgement(list(contents))
    if not appearances:
        return judged
    read = {c.path for c in contents}
    holds: dict[str, set[str]] = {}
    for content in contents:
        for paper in content.papers:
            holds.setdefault(paper.key, set()).add(content.path)
    held: dict[str, list[Appearance]] = {}
    for appearance in appearances:
        held.setdefault(appearance.key, []).append(appearance)
    for key, before in held.items():
        unread = [a for a in before if a.path not in read and a.path not in gone]
        if not unread:
            continue  # every holder is read now: the newest of them wins
        judged.decided.add(key)
        old = max(before, key=lambda a: (dates.old(a.path).ns, a.path))
        after = [a.path for a in unread] + sorted(holds.get(key, ()))
        source = max(after, key=lambda path: (dates.now(path).ns, path))
        if source in read:
            if old.path != source and old.path in {a.path for a in unread}:
                judged.stored_from[key] = (old.path, old.line, old.paper_id, old.entry_hash)
            continue
        judged.winner[key] = source
        if source == old.path or source in unreadable:
            judged.keep.add(key)
            if source == old.path and key in holds:
                judged.stored_from[key] = (old.path, old.line, old.paper_id, old.entry_hash)
        else:
            judged.extra.add(source)
    return judged


def _differences(paper: Paper, used: Paper) -> str:
    """Which parts of two versions of a paper differ, e.g. "abstract", "title and venue"."""
    parts = [
        name
        for name, a, b in (
            ("title", paper.title, used.title),
            ("authors", paper.authors_raw, used.authors_raw),
            ("venue", paper.venue, used.venue),
            ("abstract", paper.abstract, used.abstract),
        )
        if a != b
    ]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _because(used: Dated, other: Dated) -> str:
    if used.ns == other.ns:
        return f"the same date, {used}; the later file name"
    return f"the newer digest: {used} against {other}"
