"""The saved search index on disk: a folder digest-bot owns, written and read safely.

``INDEX_DIR`` looks like this::

    .digest-bot-index     the owner marker: digest-bot made (or adopted) this folder
    current               the name of the live generation (replaced atomically)
    gen-<token>/          one saved index: meta.json (version, stamp, checksums) + <array>.npy
    tmp-<pid>-<token>/    a generation being written by process <pid>
    .lock                 serialises switching generations and cleaning up (flock)

The rules:

* digest-bot writes only into a folder it owns: one it created (and marked), an empty one (it
  adds the marker), or one written by an older digest-bot (``meta.json`` and ``*.npy`` files,
  nothing else: adopted, and those files removed once a new generation is saved). Any other
  folder is refused with :class:`IndexDirError` and left as it is.
* It deletes only what it created, recognised by name pattern and marker: generations that are
  no longer current, and temporaries whose process is gone (its pid is not alive on this
  host). Anything else found in the folder stays.
* A generation is written aside (``tmp-…``), renamed to ``gen-…``, and ``current`` is
  switched with :func:`os.replace`; only then are older generations deleted. A process killed
  at any point leaves the previous index or the new one (what it wrote is in the page cache
  already), and its temporary is removed by the next :func:`clean` (at the next start or
  save). Nothing is fsynced: that costs ~0.4 s a save here, and after a power cut a generation
  whose data did not reach the disk fails its checksum and is rebuilt from the database. A
  process that has an older generation memory-mapped keeps reading it: the files of a deleted
  generation live on until unmapped (and readers hold a shared lock, so no generation is
  deleted while it is being loaded).
* Loading checks the binding first (catalogue version and stamp, in ``meta.json``), then, with
  ``verify``, every file's size and CRC-32 (streamed with :func:`zlib.crc32`, so the memory maps
  are not touched), then cheap structural invariants: shapes, dtypes, offsets ascending and
  bounded, ids within range. A damaged index raises :class:`SavedIndexError`; the caller
  rebuilds it from the database.

CRC-32 rather than a cryptographic hash: it is there to catch damage (a bad disk, a partial
copy, a stray write), not tampering (whoever can write the arrays can rewrite ``meta.json``),
and it runs about four times faster than :func:`hashlib.blake2b` here (see
``docs/architecture.md`` for the figures).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import json
import math
import mmap
import os
import re
import secrets
import shutil
import socket
import sys
import zlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np
import numpy.typing as npt

from bot.core.pages import POPULATE_WRITE, Populator

MARKER = ".digest-bot-index"
POINTER = "current"
LOCK = ".lock"
ABOUT = (
    "This folder is digest-bot's saved search index (INDEX_DIR). digest-bot writes and deletes "
    "what it made here; the index is rebuilt from the database when it is missing."
)

_GEN = re.compile(r"gen-[0-9a-f]{16}")
_TMP = re.compile(r"tmp-(\d+)-[0-9a-f]{16}")
_POINTER_TMP = re.compile(r"current\.tmp-(\d+)-[0-9a-f]{8}")
_LEGACY_FILE = re.compile(r"meta\.json|[a-z0-9_]+\.npy")
_CHUNK = 16 * 1024 * 1024
_HOST = socket.gethostname()

AnyArray = npt.NDArray[Any]

# Vocabularies: <prefix>_data (UTF-8 blob), _off (offsets), _hash (sorted), _hash_ids.
_VOCABS = ("term", "author_key", "aword", "tword", "venue")
_SPANS = ("span_title_end", "span_abstract_start", "span_abstract_end")  # field spans
# Arrays whose values must ascend (offsets, CSR pointers, sorted hashes and ids).
_ASCENDING = frozenset(
    {"ptr", "pos_ckpt", "author_ptr", "aword_ptr", "tword_ptr", "champ_ptr", "common_terms",
     "author_disp_off", *(f"{p}_off" for p in _VOCABS), *(f"{p}_hash" for p in _VOCABS)}
)  # fmt: skip
# Arrays read without value statistics (term frequencies, positions, blobs, flags, floats).
_NO_STATS = frozenset(
    {"tfs", "pos", "alive", "bitsets", "champ_bound", "title_data", "author_disp_data",
     *(f"{p}_data" for p in _VOCABS)}
)  # fmt: skip
# Bytes a paper id may hold (printable ASCII; NUL pads the fixed-width field).
_ID_BYTES = np.zeros(256, dtype=np.bool_)
_ID_BYTES[0] = True
_ID_BYTES[0x21:0x7F] = True


class IndexDirError(Exception):
    """The index folder is not digest-bot's to write in; the message says why (one line)."""


class SavedIndexError(ValueError):
    """A saved index that cannot be used: missing, damaged, or built for another catalogue."""


@dataclass(frozen=True, slots=True)
class SavedInfo:
    """What the current generation says of itself."""

    format: int
    version: int
    stamp: str


@dataclass(slots=True)
class _Stats:
    """What streaming one file showed of its values (for the structural checks)."""

    lo: int = 0
    hi: int = -1
    ascending: bool = True
    ids_ok: bool = True


# ---- ownership -------------------------------------------------------------------------------


def problem(directory: Path) -> str | None:
    """Why digest-bot must not keep its index in ``directory``, or None when it may."""
    if not directory.exists():
        return None if not directory.is_symlink() else f"{directory} is a broken link"
    if not directory.is_dir():
        return f"{directory} is a file, not a folder"
    if (directory / MARKER).is_file():
        return None
    try:
        entries = sorted(os.listdir(directory))
    except OSError as exc:
        return f"cannot read the folder {directory}: {exc.strerror or exc}"
    if not entries or _legacy(directory, entries, need_meta=True):
        return None
    shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    return f"{directory} is not empty and was not made by digest-bot (it holds {shown})"


def claim(directory: Path) -> None:
    """Make ``directory`` digest-bot's: create it, or mark an empty or older-version folder.

    Raises :class:`IndexDirError` for any other folder (nothing is written then), and
    :class:`OSError` when the folder cannot be created or written.
    """
    reason = problem(directory)
    if reason is not None:
        raise IndexDirError(reason)
    if (directory / MARKER).is_file():
        return
    legacy = sorted(os.listdir(directory)) if directory.is_dir() else []
    directory.mkdir(parents=True, exist_ok=True)
    _write_json(directory / MARKER, {"owner": "digest-bot", "about": ABOUT, "legacy": legacy})


def _legacy(directory: Path, entries: Sequence[str], *, need_meta: bool) -> bool:
    """Whether ``entries`` are what an older digest-bot wrote: meta.json and .npy files."""
    for name in entries:
        if not _LEGACY_FILE.fullmatch(name):
            return False
        path = directory / name
        if path.is_symlink() or not path.is_file():
            return False
    if not need_meta:
        return True
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and {"format", "version", "n_docs"} <= meta.keys()


# ---- cleaning --------------------------------------------------------------------------------


def clean(directory: Path) -> list[Path]:
    """Remove what digest-bot left behind and no longer needs; returns what was removed.

    In an owned folder: temporaries of processes that are gone, and generations that are not
    current. Beside it: ``<name>.tmp<pid>`` / ``<name>.old<pid>`` folders of an older
    digest-bot whose process is gone (holding only .npy files and meta.json).
    """
    removed: list[Path] = []
    if (directory / MARKER).is_file():
        with _locked(directory):
            current = _current_name(directory)
            for entry in sorted(directory.iterdir()):
                if entry.is_symlink():
                    continue
                name = entry.name
                tmp = _TMP.fullmatch(name)
                ptr = _POINTER_TMP.fullmatch(name)
                if tmp and entry.is_dir():
                    gone = _stale_dir(entry, int(tmp.group(1)))
                elif ptr and entry.is_file():
                    gone = _gone(int(ptr.group(1)))
                else:
                    gone = bool(_GEN.fullmatch(name)) and name != current and _marked(entry)
                if gone:
                    _remove(entry)
                    removed.append(entry)
    if directory.name:
        old_style = re.compile(re.escape(directory.name) + r"\.(?:tmp|old)(\d+)")
        with contextlib.suppress(OSError):
            for entry in sorted(directory.parent.iterdir()):
                match = old_style.fullmatch(entry.name)
                if (
                    match
                    and not entry.is_symlink()
                    and entry.is_dir()
                    and _gone(int(match.group(1)))
                    and _legacy(entry, os.listdir(entry), need_meta=False)
                ):
                    _remove(entry)
                    removed.append(entry)
    return removed


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (on this host; never true for this process)."""
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: it exists, under another user
        return False
    return False


def _marked(path: Path) -> bool:
    return path.is_dir() and (path / MARKER).is_file()


def _stale_dir(path: Path, pid: int) -> bool:
    """A temporary folder of a process that is gone (marked by it on this host, or empty)."""
    if not _gone(pid):
        return False
    if not (path / MARKER).is_file():
        return not any(path.iterdir())  # killed between mkdir and the marker
    try:
        marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        marker = {}
    return not isinstance(marker, dict) or marker.get("host", _HOST) == _HOST


def _remove(path: Path) -> None:
    """Remove a file, or a folder so that a removal cut short (a kill) is finished by the next
    :func:`clean`: a generation is renamed a temporary of this process, then emptied marker
    last, so what is left is a temporary of a gone process, marked or empty (stale), never an
    unmarked generation (kept forever: not provably ours)."""
    if not path.is_dir() or path.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    if _GEN.fullmatch(path.name):
        doomed = path.with_name(f"tmp-{os.getpid()}-{secrets.token_hex(8)}")
        with contextlib.suppress(OSError):
            path = path.rename(doomed)
    with contextlib.suppress(OSError):
        for entry in sorted(path.iterdir(), key=lambda e: e.name == MARKER):  # marker last
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        path.rmdir()


@contextlib.contextmanager
def _locked(directory: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the folder's lock: exclusive to switch generations and delete, shared to read
    (so no generation is deleted while a process reads it). Where there is no lock to take (a
    read-only folder for a reader, a filesystem without flock) it goes on without."""
    try:
        fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if not shared:
            raise
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


# ---- writing ---------------------------------------------------------------------------------


class _CrcWriter:
    """A file wrapper that checksums and counts what is written through it."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.crc = 0
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        return self.f.write(data)


def _write_npy(path: Path, array: AnyArray) -> dict[str, int]:
    """One array as a ``.npy`` file (what :func:`numpy.save` writes), its size and CRC-32.

    The data is written from the array's own memory (a memory map's pages included) in
    slices, with no copy; :func:`zlib.crc32` and the writes release the GIL, so two files
    are written at once (see :func:`write`).
    """
    array = np.ascontiguousarray(array)
    with path.open("wb") as f:
        out = _CrcWriter(f)
        np.lib.format.write_array_header_1_0(out, np.lib.format.header_data_from_array_1_0(array))
        flat = array.reshape(-1).view(np.uint8).data if array.size else memoryview(b"")
        for start in range(0, len(flat), _CHUNK):
            out.write(flat[start : start + _CHUNK])
    return {"bytes": out.size, "crc32": out.crc}


def _header(array: AnyArray) -> bytes:
    """The ``.npy`` header :func:`numpy.save` writes for ``array``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, np.lib.format.header_data_from_array_1_0(array))
    return buf.getvalue()


def _checksum(path: Path, array: AnyArray) -> dict[str, int]:
    """Size and CRC-32 of a ``.npy`` file made in place (:meth:`Draft.array`), from its
    header and the array's memory (the file's own pages)."""
    head = _header(array)
    crc = zlib.crc32(head)
    size = len(head)
    flat = array.reshape(-1).view(np.uint8).data if array.size else memoryview(b"")
    for start in range(0, len(flat), _CHUNK):
        crc = zlib.crc32(flat[start : start + _CHUNK], crc)
    size += len(flat)
    if path.stat().st_size != size:
        raise OSError(f"{path.name} has {path.stat().st_size} bytes, not {size}")
    return {"bytes": size, "crc32": crc}


class Draft:
    """A generation being written (``tmp-<pid>-<token>/``): large arrays can be made right
    in their files (:meth:`array`, memory-mapped) before :meth:`commit` writes the rest and
    switches to it, so they are never held in memory and written again. Made on a folder
    digest-bot owns (:class:`IndexDirError` otherwise), after cleaning it."""

    def __init__(self, directory: Path) -> None:
        claim(directory)
        clean(directory)
        self.directory = directory
        self.token = secrets.token_hex(8)
        self.tmp = directory / f"tmp-{os.getpid()}-{self.token}"
        self.tmp.mkdir()
        self._made: dict[str, AnyArray] = {}
        self._pages = Populator()  # maps the pages of the arrays made, in the background
        self._sums: dict[str, Future[dict[str, int]]] = {}  # checksums taken as filled
        self._summer: ThreadPoolExecutor | None = None
        try:
            _write_json(
                self.tmp / MARKER, {"owner": "digest-bot", "pid": os.getpid(), "host": _HOST}
            )
        except BaseException:
            self.abandon()
            raise

    def array(self, name: str, shape: tuple[int, ...], dtype: Any) -> AnyArray:
        """A new array saved as ``<name>.npy`` of this generation, all zeros, its values to
        be set by the caller. The file's space is reserved first: a full disk raises OSError
        here (not a fault later, when a page is written)."""
        length = math.prod(shape)
        empty = np.zeros(shape, dtype=dtype)
        head = _npy_header(shape, np.dtype(dtype))
        path = self.tmp / f"{name}.npy"
        size = len(head) + length * np.dtype(dtype).itemsize
        with path.open("wb") as f:
            f.write(head)
            if length:
                try:
                    os.posix_fallocate(f.fileno(), 0, size)
                except OSError as exc:
                    if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                        raise
                    f.truncate(size)
        if not length:
            self._made[name] = empty
            return empty
        mapped = np.memmap(path, mode="r+", dtype=dtype, shape=shape, offset=len(head))
        out: AnyArray = mapped.view(np.ndarray)
        # filled whole next: its pages mapped ahead, in the background (made first, mapped
        # first), or here in one call
        raw = getattr(mapped, "_mmap", None)
        if not self._pages.add(out) and sys.platform == "linux" and isinstance(raw, mmap.mmap):
            with contextlib.suppress(OSError, ValueError):
                raw.madvise(POPULATE_WRITE)
        self._made[name] = out
        return out

    def filled(self, name: str) -> None:
        """Array ``name``, made by :meth:`array`, holds its final values: its checksum is
        taken now, in a thread of its own, while the caller goes on (:meth:`commit` waits
        for it). Nothing happens for an array not made here."""
        array = self._made.get(name)
        if array is None or name in self._sums:
            return
        if self._summer is None:
            self._summer = ThreadPoolExecutor(1, thread_name_prefix="index-sums")
        self._sums[name] = self._summer.submit(_checksum, self.tmp / f"{name}.npy", array)

    def _stop_sums(self) -> None:
        if self._summer is not None:
            self._summer.shutdown(wait=True, cancel_futures=True)
            self._summer = None

    def commit(self, arrays: Mapping[str, AnyArray], meta: Mapping[str, Any]) -> None:
        """Write ``arrays`` (those made by :meth:`array` are only checksummed) and ``meta``,
        switch ``current`` to this generation and delete the older ones. Abandons the draft
        on failure."""
        tmp = self.tmp
        self._pages.close()
        try:
            made = {n for n, a in arrays.items() if self._made.get(n) is a}
            names = sorted((n for n in arrays if n not in made), key=lambda n: -arrays[n].nbytes)
            for name in names:  # made, then replaced: a new file (the mapped one stays whole)
                if name in self._made:
                    (tmp / f"{name}.npy").unlink(missing_ok=True)
            summed = {n: self._sums[n] for n in made if n in self._sums}  # taken as filled
            rest = sorted(made - summed.keys())
            with ThreadPoolExecutor(2) as pool:
                done = pool.map(lambda n: _write_npy(tmp / f"{n}.npy", arrays[n]), names)
                sums = pool.map(lambda n: _checksum(tmp / f"{n}.npy", arrays[n]), rest)
                written = dict(zip(names, done, strict=True))
                written.update(zip(rest, sums, strict=True))
            written.update({n: sum_.result() for n, sum_ in summed.items()})
            self._stop_sums()
            for name in set(self._made) - set(arrays):  # made, then not used: not saved
                (tmp / f"{name}.npy").unlink(missing_ok=True)
            files = {name: written[name] for name in arrays}
            _write_json(tmp / "meta.json", {**meta, "files": files})
            directory = self.directory
            with _locked(directory):
                gen = directory / f"gen-{self.token}"
                tmp.rename(gen)
                pointer = directory / f"current.tmp-{os.getpid()}-{secrets.token_hex(4)}"
                pointer.write_text(gen.name + "\n", encoding="utf-8")
                os.replace(pointer, directory / POINTER)
                _drop_older(directory, gen.name)
        except BaseException:
            self.abandon()
            raise

    def abandon(self) -> None:
        """Remove what was written (arrays made here stay readable while mapped)."""
        self._pages.close()
        self._stop_sums()
        _remove(self.tmp)


def _npy_header(shape: tuple[int, ...], dtype: np.dtype[Any]) -> bytes:
    """The ``.npy`` header of a C-ordered array of ``shape`` and ``dtype``."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf,
        {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape},
    )
    return buf.getvalue()


def write(
    directory: Path,
    arrays: Mapping[str, AnyArray],
    meta: Mapping[str, Any],
    draft: Draft | None = None,
) -> None:
    """Save ``arrays`` and ``meta`` as a new generation of the index in ``directory``.

    Claims the folder (:class:`IndexDirError` if it is not digest-bot's), cleans it, writes
    the generation aside (two files at a time, the largest first), switches ``current`` to it
    and deletes the older ones. ``draft``: the generation, begun already (some arrays made
    in it).
    """
    (draft or Draft(directory)).commit(arrays, meta)


def _drop_older(directory: Path, keep: str) -> None:
    """Delete generations other than ``keep``, and the files of an adopted older layout."""
    for entry in directory.iterdir():
        if _GEN.fullmatch(entry.name) and entry.name != keep and _marked(entry):
            _remove(entry)
    try:
        marker = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    legacy = marker.get("legacy") if isinstance(marker, dict) else None
    if not legacy:
        return
    for name in legacy:
        path = directory / str(name)
        if _LEGACY_FILE.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            path.unlink()
    _write_json(directory / MARKER, {**marker, "legacy": []})


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")


# ---- reading ---------------------------------------------------------------------------------


def _current_name(directory: Path) -> str | None:
    try:
        name = (directory / POINTER).read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None
    return name if _GEN.fullmatch(name) else None


def _meta(gen: Path) -> dict[str, Any]:
    try:
        meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise SavedIndexError(f"{gen.name}/meta.json cannot be read: {exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise SavedIndexError(f"{gen.name}/meta.json is not a saved index's")
    return meta


def info(directory: Path) -> SavedInfo | None:
    """Format, catalogue version and stamp of the current generation, or None."""
    if not (directory / POINTER).is_file():
        return None
    with _locked(directory, shared=True):
        name = _current_name(directory)
        if name is None:
            return None
        try:
            meta = _meta(directory / name)
            return SavedInfo(int(meta["format"]), int(meta["version"]), str(meta.get("stamp", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def read(
    directory: Path,
    names: Sequence[str],
    *,
    format_version: int,
    stamp: str | None = None,
    mmap: bool = True,
    verify: bool = True,
) -> tuple[dict[str, AnyArray], dict[str, Any]]:
    """The arrays (memory-mapped with ``mmap``) and meta of the current generation.

    Raises :class:`SavedIndexError` when there is none, when it has another format, was
    built for another catalogue ``stamp`` (when given) or is damaged. ``verify`` reads every
    file once to compare its checksum (skip it only for a generation this process has just
    written).
    """
    name = _current_name(directory)
    if name is None:
        raise SavedIndexError(f"no saved index in {directory}")
    with _locked(directory, shared=True):  # no generation is deleted while this reads
        name = _current_name(directory)
        if name is None:
            raise SavedIndexError(f"no saved index in {directory}")
        try:
            return _read_generation(directory / name, names, format_version, stamp, mmap, verify)
        except FileNotFoundError as exc:
            raise SavedIndexError(f"{name} is incomplete: {exc.filename} is missing") from None


def _read_generation(
    gen: Path,
    names: Sequence[str],
    format_version: int,
    stamp: str | None,
    mmap: bool,
    verify: bool,
) -> tuple[dict[str, AnyArray], dict[str, Any]]:
    meta = _meta(gen)
    if meta.get("format") != format_version:
        raise SavedIndexError(f"the saved index has format {meta.get('format')!r}")
    if stamp is not None and meta.get("stamp") != stamp:
        raise SavedIndexError("the saved index was built for another catalogue")
    files = meta["files"]
    stats: dict[str, _Stats] = {}
    arrays: dict[str, AnyArray] = {}
    buf = bytearray(_CHUNK) if verify else bytearray()  # one read buffer for every file
    for name in names:
        path = gen / f"{name}.npy"
        expected = files.get(name)
        if not isinstance(expected, dict):
            raise SavedIndexError(f"{name}.npy is not listed in meta.json")
        if verify:
            stats[name] = _scan(path, name, expected, buf)
        elif path.stat().st_size != expected.get("bytes"):
            raise SavedIndexError(f"{name}.npy has {path.stat().st_size} bytes")
        try:
            # plain ndarray views of the maps: np.memmap's Python-level indexing is slow
            arrays[name] = np.load(path, mmap_mode="r" if mmap else None).view(np.ndarray)
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as exc:
            raise SavedIndexError(f"{name}.npy cannot be read: {exc}") from None
    check_arrays(arrays, meta, stats if verify else None)
    return arrays, meta


def _scan(path: Path, name: str, expected: Mapping[str, Any], buf: bytearray) -> _Stats:
    """Stream one .npy file through ``buf``: compare size and CRC-32, and note its values'
    range and order."""
    with path.open("rb") as f:
        try:
            major, _ = np.lib.format.read_magic(f)
            if major == 1:
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        except ValueError as exc:
            raise SavedIndexError(f"{name}.npy has a bad header: {exc}") from None
        offset = f.tell()
        size = os.fstat(f.fileno()).st_size
        if size != expected.get("bytes") or size != offset + math.prod(shape) * dtype.itemsize:
            raise SavedIndexError(f"{name}.npy has {size} bytes, not {expected.get('bytes')}")
        f.seek(0)
        crc = zlib.crc32(f.read(offset))
        stats = _Stats()
        values = len(shape) == 1 and dtype.kind in "iu" and name not in _NO_STATS
        ids = dtype.kind == "S"
        itemsize = max(dtype.itemsize, 1)
        if len(buf) < itemsize:
            buf = bytearray(itemsize)
        view = memoryview(buf)[: len(buf) // itemsize * itemsize]
        last: int | None = None
        while True:
            n = _fill(f, view)
            if n == 0:
                break
            crc = zlib.crc32(view[:n], crc)
            if values:
                chunk = np.frombuffer(buf, dtype=dtype, count=n // itemsize)
                lo, hi = int(chunk.min()), int(chunk.max())
                if stats.hi < stats.lo:
                    stats.lo, stats.hi = lo, hi
                else:
                    stats.lo, stats.hi = min(stats.lo, lo), max(stats.hi, hi)
                if name in _ASCENDING:
                    ordered = bool(np.all(chunk[1:] >= chunk[:-1]))
                    if not ordered or (last is not None and int(chunk[0]) < last):
                        stats.ascending = False
                    last = int(chunk[-1])
            elif ids:
                stats.ids_ok = stats.ids_ok and bool(
                    _ID_BYTES[np.frombuffer(buf, dtype=np.uint8, count=n)].all()
                )
    if crc != expected.get("crc32"):
        raise SavedIndexError(f"{name}.npy does not match its checksum")
    return stats


def _fill(f: io.BufferedReader, view: memoryview) -> int:
    """Read until ``view`` is full or the file ends; the number of bytes read."""
    total = 0
    while total < len(view):
        n = f.readinto(view[total:])
        if not n:
            break
        total += n
    return total


# ---- structural invariants ---------------------------------------------------------------------


def check_arrays(  # noqa: C901 -- one flat list of independent invariants, read top to bottom
    a: Mapping[str, AnyArray], meta: Mapping[str, Any], stats: Mapping[str, _Stats] | None
) -> None:
    """Raise :class:`SavedIndexError` unless the arrays fit together as an index.

    Shapes, dtypes and the ends of every offset array are always checked (from the headers and
    a few values); with ``stats`` (from :func:`_scan`) also that offsets ascend and that every
    id used to index another array is within its range. Costs O(documents + vocabulary), never
    a pass over the postings.
    """

    def fail(what: str) -> NoReturn:
        raise SavedIndexError(f"damaged index: {what}")

    def vec(name: str, kinds: str, length: int | None = None) -> AnyArray:
        x = a[name]
        if x.ndim != 1 or x.dtype.kind not in kinds:
            fail(f"{name} has shape {x.shape} and type {x.dtype}")
        if length is not None and len(x) != length:
            fail(f"{name} has {len(x)} entries, not {length}")
        return x

    def within(name: str, lo: int, hi: int) -> None:
        s = stats.get(name) if stats is not None else None
        if s is not None and s.lo <= s.hi and (s.lo < lo or s.hi > hi):
            fail(f"{name} holds values from {s.lo} to {s.hi}, outside {lo}..{hi}")

    def offsets(name: str, n: int, end: int) -> None:
        x = vec(name, "iu", n + 1)
        if int(x[0]) != 0 or int(x[-1]) != end:
            fail(f"{name} runs from {int(x[0])} to {int(x[-1])}, not 0 to {end}")
        ascending(name)

    def ascending(name: str) -> None:
        s = stats.get(name) if stats is not None else None
        if s is not None and not s.ascending:
            fail(f"{name} is not in ascending order")

    try:
        n_docs, total_len = int(meta["n_docs"]), int(meta["total_len"])
    except (KeyError, TypeError, ValueError):
        fail("meta.json lacks n_docs / total_len")
    size = len(vec("doc_len", "i"))
    within("doc_len", 0, 2**31 - 1)
    alive = vec("alive", "b", size)
    if int(np.count_nonzero(alive)) != n_docs:
        fail(f"{int(np.count_nonzero(alive))} live documents, meta.json says {n_docs}")
    if n_docs and int(a["doc_len"][alive].sum(dtype=np.int64)) != total_len:
        fail("document lengths do not add up to total_len")
    ids = vec("paper_ids", "S", size)
    if stats is not None and not stats["paper_ids"].ids_ok:
        fail("paper_ids holds bytes that are not a paper id's")
    if n_docs and bool(np.any(ids[alive] == b"")):
        fail("a live document has no paper id")
    title_bytes = len(vec("title_data", "u"))
    for name in ("title_start", "title_end"):
        vec(name, "i", size)
        within(name, 0, title_bytes)
    if stats is not None and bool(np.any(a["title_start"] > a["title_end"])):
        fail("a title ends before it starts")
    for name in _SPANS:
        vec(name, "i", size)
        within(name, 0, 2**31 - 1)
    n: dict[str, int] = {}
    for p in _VOCABS:
        data = vec(f"{p}_data", "u")
        n[p] = len(vec(f"{p}_off", "i")) - 1
        if n[p] < 0:
            fail(f"{p}_off is empty")
        offsets(f"{p}_off", n[p], len(data))
        vec(f"{p}_hash", "u", n[p])
        ascending(f"{p}_hash")
        vec(f"{p}_hash_ids", "i", n[p])
        within(f"{p}_hash_ids", 0, n[p] - 1)
    n_terms, n_authors = n["term"], n["author_key"]
    offsets("author_disp_off", n_authors, len(vec("author_disp_data", "u")))
    docs = vec("docs", "i")
    offsets("ptr", n_terms, len(docs))
    within("docs", 0, size - 1)
    tfs = vec("tfs", "u", len(docs))
    pos = vec("pos", "u")
    vec("pos_ckpt", "i", (len(tfs) + 15) // 16)
    ascending("pos_ckpt")
    within("pos_ckpt", 0, len(pos))
    order = vec("term_order", "i")
    if len(order) > n_terms:
        fail(f"term_order has {len(order)} entries for {n_terms} terms")
    within("term_order", 0, n_terms - 1)
    for ptr, target, keys, hi in (
        ("author_ptr", "author_docs", n_authors, size - 1),
        ("aword_ptr", "aword_authors", n["aword"], n_authors - 1),
        ("tword_ptr", "tword_docs", n["tword"], size - 1),
    ):
        offsets(ptr, keys, len(vec(target, "i")))
        within(target, 0, hi)
    vec("venue_of", "i", size)
    within("venue_of", -1, n["venue"] - 1)
    common = vec("common_terms", "i")
    ascending("common_terms")
    within("common_terms", 0, n_terms - 1)
    offsets("champ_ptr", len(common), len(vec("champ_docs", "i")))
    within("champ_docs", 0, size - 1)
    vec("champ_bound", "f", len(common))
    bitsets = a["bitsets"]
    if bitsets.dtype != np.uint8 or bitsets.shape != (len(common), (size + 7) // 8):
        fail(f"bitsets has shape {bitsets.shape} and type {bitsets.dtype}")
