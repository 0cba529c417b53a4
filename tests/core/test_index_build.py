"""Building in bulk: the compact tokenizer, the batched feed and the spilled, laid-out build
give exactly the arrays of the document-by-document build."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import bot.core.index.tuning as tuning
from bot.bench.generate import digest_text
from bot.core.index import Index, IndexBuilder, index_doc, tokens, vocab
from bot.core.index.persist import ARRAYS
from bot.core.index.tokens import source, tokenize
from bot.core.models import Author, Paper
from bot.core.parser import parse_digest
from bot.core.text import FIELD_WEIGHTS, FieldWeights


def _papers(count: int, seed: int = 11) -> list[Paper]:
    out: list[Paper] = []
    i = 0
    while len(out) < count:
        out.extend(parse_digest(digest_text(seed, i, 400).encode(), f"f{i}").papers)
        i += 1
    return out[:count]


def _odd_papers() -> list[Paper]:
    """Empty fields, chained words, a venue, accents, names with no terms."""
    a = Author("Zoë O'Brien-Smith", "O'Brien-Smith", "Zoë", "zoe obrien-smith")
    b = Author("A", "A", "", "a")
    return [
        Paper("p1", "k1", "", (a,), "", "", ""),
        Paper("p2", "k2", "Multi-layer model's state-of-the-art", (a, b), "", "NeurIPS", "x"),
        Paper("p3", "k3", "The and of", (), "", "ICML 2024", "The the. 40.3% x-y"),
        Paper("p4", "k4", "Café ½ déjà-vu", (b,), "", "", "Abstract only here."),
        # ASCII whitespace str.split() splits at, chunks longer than the bulk lookup's keys
        Paper(
            "p5", "k5", "A\ttitle\x1fwith  gaps", (), "", "", " out-of-distribution-shift\x1cx\n"
        ),
        Paper("p6", "k6", "Nul", (b,), "", "", "a\x00b and a\x00b again"),  # a NUL byte
    ]


@pytest.mark.parametrize(
    "weights", [FIELD_WEIGHTS, FieldWeights(1, 1, 0), FieldWeights(0, 0, 2), FieldWeights(3, 2, 1)]
)
@pytest.mark.parametrize("forget", [False, True])
def test_tokenize_is_index_doc(
    weights: FieldWeights, forget: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    papers = [*_odd_papers(), *_papers(150)]
    if forget:  # the tokenizer's chunk table is dropped between batches
        monkeypatch.setattr(tokens, "CHUNK_LIMIT", 30)
    step = 37 if forget else len(papers)
    for at in range(0, len(papers), step):
        _check_batch(papers[at : at + step], at, weights)


def test_tokenize_without_bulk_keys_is_index_doc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every chunk's bulk key the same (a clash): chunks are then grouped by their bytes."""
    monkeypatch.setattr(tokens, "_MIX", (np.uint64(0), np.uint64(0)))
    _check_batch([*_odd_papers(), *_papers(40)], 0, FIELD_WEIGHTS)


def _check_batch(papers: list[Paper], at: int, weights: FieldWeights) -> None:
    batch = tokenize([source(at + i, p) for i, p in enumerate(papers)], weights)
    assert len(set(batch.vocab)) == len(batch.vocab)
    starts = np.concatenate([[0], np.cumsum(batch.sizes)])
    for i, p in enumerate(papers):
        doc = index_doc(at + i, p, weights)
        ids = batch.ids[starts[i] : starts[i + 1]]
        assert [batch.vocab[t] for t in ids] == doc.terms
        assert batch.steps[starts[i] : starts[i + 1]].tolist() == doc.steps
        assert tuple(batch.names.title_words_of(i)) == doc.title_words
        assert batch.names.authors_of(i) == list(dict.fromkeys(k for k, _ in doc.authors))
        sp = doc.spans  # where the title and the abstract are (the known-item order's)
        assert batch.spans[i].tolist() == [sp.title_end, sp.abstract_start, sp.abstract_end]
        assert (batch.docnos[i], batch.paper_ids[i], batch.titles[i], batch.venues[i]) == (
            at + i, doc.paper_id, doc.title, doc.venue
        )  # fmt: skip


def _arrays_equal(a: Index, b: Index) -> None:
    for name in ARRAYS:
        x, y = np.asarray(a._a[name]), np.asarray(b._a[name])
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name


@pytest.mark.parametrize("spill", [False, True])
def test_batched_chunked_spilled_build_is_the_plain_build(
    spill: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    papers = [*_odd_papers(), *_papers(700)]
    docnos = sorted(random.Random(3).sample(range(5000), len(papers)))
    pairs = list(zip(docnos, papers, strict=True))
    plain = Index.from_papers(pairs, version=4)
    monkeypatch.setattr(tuning, "BUILD_CHUNK", 97)
    if spill:
        monkeypatch.setattr(tuning, "SPILL_BYTES", 1)
    builder = IndexBuilder()
    for start in range(0, len(pairs), 130):
        builder.add_batch(tokenize([source(d, p) for d, p in pairs[start : start + 130]]))
    built = builder.finish(4)
    _arrays_equal(built, plain)
    assert built._meta == plain._meta
    # and the update path still lays new documents over it
    more = _papers(40, seed=12)
    update = [(6000 + i, p) for i, p in enumerate(more)]
    a = plain.updated([index_doc(d, p) for d, p in update], removed=[docnos[3]])
    b = Index.from_papers([*(x for x in pairs if x[0] != docnos[3]), *update], version=4)
    for text in ("model", "learning deep", '"feature learning"'):
        from bot.core.query import parse_query

        q = parse_query(text)
        assert a.search(q, 20) == b.search(q, 20)


def test_spill_folder_is_removed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tuning, "BUILD_CHUNK", 50)
    monkeypatch.setattr(tuning, "SPILL_BYTES", 1)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    papers = _papers(300)
    builder = IndexBuilder()
    builder.add_batch(tokenize([source(i, p) for i, p in enumerate(papers[:120])]))
    builder.add_batch(tokenize([source(i + 120, p) for i, p in enumerate(papers[120:])]))
    assert any(tmp_path.iterdir())  # chunks were spilled there
    index = builder.finish(1)
    assert index.n_docs == 300
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("weak_hash", [False, True])
def test_growing_vocab_in_bulk_is_one_by_one(
    weak_hash: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if weak_hash:  # every word of a length collides: the blob check must tell them apart
        monkeypatch.setattr(vocab, "term_hash", lambda word: len(word))
    base_words = [f"w{i}" for i in range(300)] + ["alpha", "beta", "gamma"]
    first = vocab.GrowingVocab(prefix="t")
    assert first.ids_of(base_words).tolist() == list(range(len(base_words)))
    saved = first.arrays()
    words = ["beta", "new1", "w7", "new2", "new1", "zeta", "w299", "gamma", "new2", "omega"]
    bulk = vocab.GrowingVocab(saved, "t")
    one = vocab.GrowingVocab(saved, "t")
    assert bulk.ids_of(words).tolist() == [one.id(w) for w in words]
    assert bulk.ids_of(["new1", "w0"]).tolist() == [one.id("new1"), one.id("w0")]
    a, b = bulk.arrays(), one.arrays()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    # the saved form of one stable sort of every hash, the base's first
    new = bulk.new_words
    hashes = np.concatenate(
        [saved["t_hash"], np.array([vocab.term_hash(w) for w in new], dtype=np.uint64)]
    )
    ids = np.concatenate([saved["t_hash_ids"], np.arange(len(base_words), len(bulk))])
    order = np.argsort(hashes, kind="stable")
    assert np.array_equal(a["t_hash"], hashes[order])
    assert np.array_equal(a["t_hash_ids"], ids[order])
    table = vocab.WordTable(a, "t")
    for w in [*base_words, *words]:
        assert table.id(w) == one.id(w)


def test_checkpoints_are_the_block_sums() -> None:
    from bot.core.index.phrases import checkpoints

    rng = np.random.default_rng(1)
    for n in (0, 1, 15, 16, 17, 33, 1000):
        tfs = rng.integers(0, 300, n).astype(np.uint16)
        blocks = np.add.reduceat(tfs, np.arange(0, n, 16), dtype=np.int64) if n else tfs[:0]
        expected = np.concatenate([[0], np.cumsum(blocks)[:-1]]) if n else np.zeros(0)
        assert checkpoints(tfs).tolist() == expected.tolist()


def test_checkpoints_of_bytes_are_the_block_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    """8-bit term frequencies take a packed-lanes path (in chunks): same sums, any length,
    maximal values included, written into ``out`` when given."""
    from bot.core.index import phrases

    rng = np.random.default_rng(3)
    for chunk in (1, 3, phrases._CKPT_CHUNK):
        for n in (0, 1, 15, 16, 17, 33, 48, 1000, 70_001):
            for high in (2, 256):
                tfs = rng.integers(0, high, n).astype(np.uint8)
                if n > 40:
                    tfs[:40] = 255  # a block of the largest term frequencies
                blocks = np.add.reduceat(tfs, np.arange(0, n, 16), dtype=np.int64)
                expected: list[int] = [0, *np.cumsum(blocks)[:-1].tolist()] if n else []
                monkeypatch.setattr(phrases, "_CKPT_CHUNK", chunk)
                assert phrases.checkpoints(tfs).tolist() == expected
                out = np.full((n + 15) // 16, -1, dtype=np.int64)
                assert phrases.checkpoints(tfs, out) is out
                assert out.tolist() == expected


def test_fill_bits_is_packbits() -> None:
    from bot.core.index.champions import fill_bits

    rng = np.random.default_rng(2)
    for size in (1, 7, 8, 9, 1000):
        for count in (0, 1, size // 2, size):
            docs = np.sort(rng.choice(size, count, replace=False)).astype(np.int32)
            mask = np.zeros(size, dtype=np.bool_)
            mask[docs] = True
            row = np.zeros((size + 7) // 8, dtype=np.uint8)
            fill_bits(row, docs)
            assert np.array_equal(row, np.packbits(mask, bitorder="little"))
