"""The index's arrays on disk: which arrays are saved, in which format, bound to what.

The folder, its generations, checksums and structural checks are
:mod:`bot.core.saved_index`'s; this module says what an index is made of on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.core import saved_index
from bot.core.index.arrays import AnyArray

# 2: field-weighted token lists (bot.core.text.FieldWeights): other term frequencies
# 3: the per-docno field spans (span_*: where the title and the abstract are, in positions)
FORMAT_VERSION = 3

# Array names persisted by save() and memory-mapped by load().
ARRAYS = (
    "term_data", "term_off", "term_hash", "term_hash_ids", "term_order",
    "author_key_hash", "author_key_hash_ids", "aword_hash", "aword_hash_ids",
    "tword_hash", "tword_hash_ids", "venue_hash", "venue_hash_ids",
    "ptr", "docs", "tfs", "pos_ckpt", "pos",
    "doc_len", "alive", "venue_of", "paper_ids", "title_data", "title_start", "title_end",
    "span_title_end", "span_abstract_start", "span_abstract_end",
    "venue_data", "venue_off",
    "author_key_data", "author_key_off", "author_disp_data", "author_disp_off",
    "author_ptr", "author_docs",
    "aword_data", "aword_off", "aword_ptr", "aword_authors",
    "tword_data", "tword_off", "tword_ptr", "tword_docs",
    "common_terms", "champ_ptr", "champ_docs", "champ_bound", "bitsets",
)  # fmt: skip


def save(
    arrays: Mapping[str, AnyArray],
    meta: Mapping[str, Any],
    directory: Path,
    stamp: str,
    draft: saved_index.Draft | None = None,
) -> None:
    """Write a new generation of the index into ``directory`` (see :func:`saved_index.write`;
    ``draft``: the generation begun already)."""
    saved = dict(meta)
    saved["format"] = FORMAT_VERSION
    saved["stamp"] = stamp
    saved_index.write(directory, {name: arrays[name] for name in ARRAYS}, saved, draft)


def info(directory: Path) -> saved_index.SavedInfo | None:
    """Catalogue version and stamp of the saved index, or None if there is none."""
    found = saved_index.info(directory)
    return found if found is not None and found.format == FORMAT_VERSION else None


def read(
    directory: Path, *, mmap: bool, stamp: str | None, verify: bool
) -> tuple[dict[str, AnyArray], dict[str, Any]]:
    """The saved arrays and meta (see :func:`saved_index.read`)."""
    return saved_index.read(
        directory, ARRAYS, format_version=FORMAT_VERSION, stamp=stamp, mmap=mmap, verify=verify
    )
