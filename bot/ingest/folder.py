"""Reindex, step 1: the digest folder -> what each ``*.txt`` file holds, read safely.

:func:`list_files` walks the folder (sorted by relative path, hidden files and folders
skipped, no folder twice: links can loop); :func:`read_all` reads, hashes and parses every file
found, in a worker thread. Only regular files are opened (``O_NONBLOCK | O_NOFOLLOW``, the
type checked before and after the open), and never more than ``max_bytes + 1`` bytes of one
(``MAX_DIGEST_BYTES``). A link is followed when its target is inside the folder, and out of it
only with ``follow_symlinks`` (``FOLLOW_SYMLINKS=1``). A file that cannot be read, is not a
regular file, is too big, is a link not followed or is not UTF-8 text is *rejected* (a
``file:1`` diagnostic); so is a folder that cannot be read, and :func:`kept_unread` gives the
catalogue's digests under it, which keep their state.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bot.core.models import Diagnostic, DigestInfo, ParseReport, ProgressFn
from bot.core.parser import content_hash, parse_digest
from bot.store.papers import DigestStamp

# The largest digest file read (MAX_DIGEST_BYTES). Parsing takes a few times a file's size in
# memory; 64 MiB is some 45,000 entries, far above any real digest (the seed is 12 KB for
# 8 papers, a 1,000-paper digest about 1.5 MB), and keeps one file's parse to a few hundred MB.
MAX_DIGEST_BYTES = 64 * 1024 * 1024

_READ_CHUNK = 1 << 20  # bytes per read once a file has proved longer than its size said
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a named pipe must never block the open
    | getattr(os, "O_NOFOLLOW", 0)  # the path was checked: a link swapped in is not followed
    | getattr(os, "O_CLOEXEC", 0)
)
_NOT_FOLLOWED = "not followed (FOLLOW_SYMLINKS=1 allows it)"
_KEEPS_STATE = "the digests in it keep their current state"
_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


@dataclass(frozen=True, slots=True)
class Read:
    path: str
    status: Literal["parsed", "unchanged", "rejected"]
    content_hash: str = ""
    report: ParseReport | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    size: int = 0
    mtime_ns: int = 0
    restamp: bool = False  # unchanged content, but a new size / modification time
    reason: str = ""  # why a file with no diagnostic of its own was rejected
    count: int = 0  # papers parsed (still known when the report is let go: the bulk load)


@dataclass(frozen=True, slots=True)
class Found:
    """A ``*.txt`` entry of the folder: ``path`` is what to open (a followed link's target);
    ``problem`` set means rejected while listing, for that reason."""

    name: str
    path: Path
    problem: str = ""


@dataclass(slots=True)
class Listing:
    files: list[Found] = field(default_factory=list)
    # folders not read, as (relative path, diagnostic, reason for the file outcomes): the
    # catalogue's digests under them keep their state
    blocked: list[tuple[str, str, str]] = field(default_factory=list)


class FolderError(Exception):
    pass


# -- listing the folder ------------------------------------------------------------------------


def list_files(root: Path, follow_symlinks: bool) -> Listing:
    """Every ``*.txt`` under ``root`` (not hidden), and the folders that could not be read.

    A link is followed when its target is inside ``root``, or anywhere with
    ``follow_symlinks``; a link to a folder inside ``root`` is not followed (its files are
    read at their real place), and no folder is read twice (links can loop).
    """
    if not root.exists():
        raise FolderError(f"digest folder {root} does not exist")
    if not root.is_dir():
        raise FolderError(f"digest folder {root} is not a folder")
    real_root = os.path.realpath(root)
    listing = Listing()
    try:
        top = os.stat(root)
    except OSError as exc:
        raise FolderError(f"cannot read digest folder {root}: {_why(exc)}") from None
    visited = {(top.st_dev, top.st_ino)}
    pending: list[tuple[str, str]] = [("", str(root))]
    while pending:
        prefix, directory = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            if not prefix:
                raise FolderError(f"cannot read digest folder {root}: {_why(exc)}") from None
            listing.blocked.append(
                (
                    prefix,
                    f"cannot read the folder ({_why(exc)}); {_KEEPS_STATE}",
                    "in a folder that cannot be read",
                )
            )
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            name = f"{prefix}/{entry.name}" if prefix else entry.name
            digest = entry.name.endswith(".txt")
            try:
                if entry.is_symlink():
                    _link(entry, name, real_root, follow_symlinks, visited, listing, pending)
                elif entry.is_dir(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    if (st.st_dev, st.st_ino) not in visited:
                        visited.add((st.st_dev, st.st_ino))
                        pending.append((name, entry.path))
                elif digest:
                    listing.files.append(Found(name, Path(entry.path)))
            except OSError as exc:
                if digest:
                    problem = f"cannot read the file ({_why(exc)}); file skipped"
                    listing.files.append(Found(name, Path(entry.path), problem))
    listing.files.sort(key=lambda f: f.name)
    listing.blocked.sort()
    return listing


def _link(
    entry: os.DirEntry[str],
    name: str,
    real_root: str,
    follow: bool,
    visited: set[tuple[int, int]],
    listing: Listing,
    pending: list[tuple[str, str]],
) -> None:
    """One symbolic link met while listing: follow it, skip it, or say why not."""
    digest = entry.name.endswith(".txt")
    target = os.path.realpath(entry.path)
    inside = target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)
    try:
        st = os.stat(target)
    except OSError as exc:
        if digest:
            problem = f"symbolic link to {target}, which cannot be read ({_why(exc)}); file skipped"
            listing.files.append(Found(name, Path(entry.path), problem))
        return
    if stat.S_ISDIR(st.st_mode):
        if inside or (st.st_dev, st.st_ino) in visited:
            return  # read at its real place / already read
        if not follow:
            why = f"symbolic link to the folder {target}, outside the digest folder; "
            listing.blocked.append(
                (name, why + f"{_NOT_FOLLOWED}; {_KEEPS_STATE}", "in a folder that is not followed")
            )
            return
        visited.add((st.st_dev, st.st_ino))
        pending.append((name, entry.path))
    elif digest:
        if inside or follow:
            listing.files.append(Found(name, Path(target)))
        else:
            problem = f"symbolic link to {target}, outside the digest folder; {_NOT_FOLLOWED}"
            listing.files.append(Found(name, Path(entry.path), problem))


def kept_unread(
    listing: Listing, known: Mapping[str, DigestInfo], listed: Collection[str]
) -> list[Read]:
    """The catalogue's digests under folders that were not read: rejected, so they stay."""
    kept = []
    for path in known:
        if path in listed:
            continue
        for folder, _, reason in listing.blocked:
            if path.startswith(folder + "/"):
                kept.append(Read(path, "rejected", reason=reason))
                break
    return kept


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


# -- reading -----------------------------------------------------------------------------------


def read_all(
    files: Sequence[Found],
    known: dict[str, DigestStamp],
    force: bool,
    notify: ProgressFn,
    max_bytes: int,
) -> list[Read]:
    """Read, hash and (when changed) parse every file. Runs in a worker thread."""
    reads: list[Read] = []
    for done, found in enumerate(files, start=1):
        reads.append(_read_one(found, known.get(found.name), force, max_bytes))
        notify("parse", done, len(files))
    return reads


def read_extra(files: Sequence[Found], max_bytes: int) -> list[Read]:
    """Re-read unchanged digests that now give a paper its text. Runs in a worker thread."""
    reads = [_read_one(found, None, True, max_bytes) for found in files]
    return [r for r in reads if r.status == "parsed"]


def read_one(found: Found, max_bytes: int) -> Read:
    """Read, hash and parse one file (as a file new to the catalogue)."""
    return _read_one(found, None, True, max_bytes)


def _read_one(found: Found, known: DigestStamp | None, force: bool, max_bytes: int) -> Read:
    """One file: rejected if it is not a regular file, too big or unreadable; same size and
    modification time as last time -> unchanged without reading; else read (at most
    ``max_bytes``) and hash it (same hash -> unchanged) and parse it."""
    name = found.name
    if found.problem:
        return _rejected(name, found.problem)
    try:
        st = os.stat(found.path, follow_symlinks=False)  # never open what is not a file
        if not stat.S_ISREG(st.st_mode):
            return _rejected(name, f"not a regular file ({_kind(st.st_mode)}); file skipped")
        size, mtime_ns = st.st_size, st.st_mtime_ns  # before reading: a later change shows
        if known is not None and not force and (size, mtime_ns) == (known.size, known.mtime_ns):
            return Read(name, "unchanged", known.content_hash, size=size, mtime_ns=mtime_ns)
        if size > max_bytes:
            return _rejected(name, _too_big(f"{size:,} bytes", max_bytes))
        fd = os.open(found.path, _OPEN_FLAGS)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):  # replaced since the check above
                return _rejected(name, f"not a regular file ({_kind(st.st_mode)}); file skipped")
            data = _read_capped(fd, st.st_size, max_bytes)
        finally:
            os.close(fd)
    except OSError as exc:
        return _rejected(name, f"cannot read the file ({_why(exc)}); file skipped")
    if data is None:
        return _rejected(name, _too_big(f"more than {max_bytes:,} bytes", max_bytes))
    digest_hash = content_hash(data)
    if known is not None and digest_hash == known.content_hash and not force:
        return Read(name, "unchanged", digest_hash, size=size, mtime_ns=mtime_ns, restamp=True)
    report = parse_digest(data, name)
    if not report.ok:
        return Read(name, "rejected", digest_hash, diagnostics=report.diagnostics)
    return Read(
        name, "parsed", digest_hash, report, report.diagnostics, size, mtime_ns,
        count=len(report.papers),
    )  # fmt: skip


def _read_capped(fd: int, size: int, max_bytes: int) -> bytes | None:
    """The file's bytes, or None when it holds more than ``max_bytes``: never reads more
    than ``max_bytes + 1``, whatever its size said (it may grow; /proc files say 0)."""
    limit = max_bytes + 1
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        want = size + 1 - total if total <= size else _READ_CHUNK  # one read when size is right
        chunk = os.read(fd, min(want, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        return None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _rejected(name: str, message: str) -> Read:
    return Read(name, "rejected", diagnostics=(Diagnostic(name, 1, message),))


def _too_big(size: str, max_bytes: int) -> str:
    return (
        f"the file is {size}, over the limit of {max_bytes:,} bytes (MAX_DIGEST_BYTES); "
        "file skipped"
    )


def _kind(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")
