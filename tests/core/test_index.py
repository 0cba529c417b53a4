"""The index: rank-bm25's exact scores, AND semantics, filters, pruning, updates, persistence."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

import bot.core.index.tuning as index_module
from bot.bench.generate import digest_text
from bot.core.index import Index, IndexDoc, IndexHit, index_doc, scoring
from bot.core.models import Author, Paper
from bot.core.parser import parse_digest
from bot.core.query import QueryError, match_doc, matches, parse_query


def _papers(count: int, seed: int = 7, start: int = 0) -> list[Paper]:
    out: list[Paper] = []
    i = start
    while len(out) < count:
        out.extend(parse_digest(digest_text(seed, i, 800).encode(), f"f{i}").papers)
        i += 1
    return out[:count]


@pytest.fixture(scope="module")
def corpus() -> tuple[list[IndexDoc], list[Paper]]:
    papers = _papers(1600)
    # sparse docnos, as rowids can be
    return [index_doc(3 * i + 1, p) for i, p in enumerate(papers)], papers


@pytest.fixture(scope="module")
def reference(corpus: tuple[list[IndexDoc], list[Paper]]) -> BM25Okapi:
    return BM25Okapi([d.terms for d in corpus[0]])


def _expected(
    bm: BM25Okapi, docs: list[IndexDoc], terms: list[str], k: int, mode: str
) -> list[tuple[int, float]]:
    scores = bm.get_scores(terms)
    need = all if mode == "and" else any
    rows = [
        (-scores[i], docs[i].docno)
        for i, f in enumerate(bm.doc_freqs)
        if need(t in f for t in terms)
    ]
    rows.sort()
    return [(d, -s) for s, d in rows[:k]]


def _query_terms(docs: list[IndexDoc], rng: random.Random) -> list[list[str]]:
    out: list[list[str]] = []
    for _ in range(80):
        doc = docs[rng.randrange(len(docs))]
        n = rng.choice((1, 1, 2, 2, 3, 4))
        out.append(rng.sample(sorted(set(doc.terms)), min(n, len(set(doc.terms)))))
    return out


def test_scores_equal_rank_bm25(
    corpus: tuple[list[IndexDoc], list[Paper]], reference: BM25Okapi
) -> None:
    docs, _ = corpus
    index = Index.build(docs)
    assert index.n_docs == len(docs)
    assert index.avgdl == reference.avgdl
    assert index.average_idf() == reference.average_idf
    rng = random.Random(1)
    for terms in _query_terms(docs, rng):
        for mode in ("and", "or"):
            got = index.search_terms(terms, 10, mode=mode)
            want = _expected(reference, docs, terms, 10, mode)
            assert [(h.docno, h.score) for h in got.hits] == want, (terms, mode)
    # scores for any docs, like get_batch_scores, bit-identical
    sample = [d.docno for d in docs[:50]]
    terms = ["model", "learn", "deep", "absent-term"]
    batch = reference.get_batch_scores(terms, list(range(50)))
    assert index.scores_for(terms, sample).tolist() == batch


def test_repeated_query_terms_count_twice(
    corpus: tuple[list[IndexDoc], list[Paper]], reference: BM25Okapi
) -> None:
    docs, _ = corpus
    index = Index.build(docs)
    terms = ["model", "model", "learn"]
    got = index.search_terms(terms, 10)
    assert [(h.docno, h.score) for h in got.hits] == _expected(reference, docs, terms, 10, "and")


def test_champion_pruning_is_exact(
    corpus: tuple[list[IndexDoc], list[Paper]],
    reference: BM25Okapi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs, _ = corpus
    monkeypatch.setattr(index_module, "COMMON_MIN_DF", 100)
    monkeypatch.setattr(index_module, "CHAMPIONS", 64)
    monkeypatch.setattr(index_module, "CHAMPIONS_MIN", 48)
    index = Index.build(docs)
    common = [index.term(int(t)) for t in index._a["common_terms"][:25]]
    assert common
    pruned = 0
    rng = random.Random(2)
    queries = [[t] for t in common] + [rng.sample(common, 2) for _ in range(30)]
    for terms in queries:
        got = index.search_terms(terms, 10)
        pruned += got.pruned
        assert [(h.docno, h.score) for h in got.hits] == _expected(
            reference, docs, terms, 10, "and"
        ), terms
        assert got.total == sum(all(t in f for t in terms) for f in reference.doc_freqs)
    assert pruned > 0  # the champion path was taken and proved exact
    counted = index.search(parse_query(common[0]), 0)
    assert counted.hits == () and counted.total == index.doc_freq(common[0])
    # with an exclusion and a venue filter, still the plain path's answer
    q = parse_query(f"{common[0]} -{common[1]} venue:arxiv")
    plain = {h.docno for h in index.search(q, 10_000).hits}
    assert [h.docno for h in index.search(q, 10).hits] == [
        h.docno for h in index.search(q, 10_000).hits[:10]
    ]
    assert len(plain) == index.search(q, 10).total
    # exclusions in the champion path: a common term (its bitset), rarer terms (bits cleared)
    df = index.doc_freqs()
    rarer = [index.term(int(t)) for t in np.flatnonzero((df >= 20) & (df <= 90))[:6]]
    assert rarer
    pruned = 0
    # and venue filters, with one term (its champions' parts) or two
    for i, term in enumerate(common[:8]):
        others = [t for t in common if t != term]
        other = others[i % len(others)]
        for text in (
            f"{term} -{other} -{rarer[i % len(rarer)]} -{rarer[-1]}",
            f"{term} venue:arxiv",
            f"{term} -venue:arxiv -{rarer[0]}",
            f"{term} {other} -venue:neurips",
        ):
            q = parse_query(text)
            full = index.search(q, 100_000)
            got = index.search(q, 10)
            pruned += got.pruned
            assert got.hits == full.hits[:10] and got.total == full.total, text
    assert pruned > 8


def test_filters_agree_with_matches(corpus: tuple[list[IndexDoc], list[Paper]]) -> None:
    docs, papers = corpus
    index = Index.build(docs)
    mdocs = {d.docno: match_doc(p) for d, p in zip(docs, papers, strict=True)}
    rng = random.Random(3)
    queries = [
        '"feature learning"',
        '"scaling laws" model',
        "model -learning",
        'learning -"neural networks"',
        "venue:neurips",
        "venue:arxiv attention",
        "venue:icml venue:iclr",
        "-venue:arxiv model",
        "multi-layer",
        "depth-muP",
    ]
    for _ in range(8):
        p = papers[rng.randrange(len(papers))]
        if p.authors:
            a = p.authors[0]
            queries.append(f'author:"{a.last}"')
            queries.append(f'author:"{a.first[:1]}. {a.last}" model')
            queries.append(f'model -author:"{a.last}"')
    for text in queries:
        q = parse_query(text)
        result = index.search(q, 100_000)
        got = {h.docno for h in result.hits}
        want = {d for d, m in mdocs.items() if matches(q, m)}
        assert got == want, text
        assert result.total == len(want)
        unscored = index.matches(q)  # what /trend counts: the same set, ascending
        assert unscored.tolist() == sorted(want), text


@pytest.mark.parametrize("flags", [1 << 24, 0])
def test_phrases_by_flags_and_by_sorted_keys_agree_with_matches(
    corpus: tuple[list[IndexDoc], list[Paper]], monkeypatch: pytest.MonkeyPatch, flags: int
) -> None:
    """Phrases are checked with per-thread flags, or (over too many candidates: here every
    time with ``flags=0``) by sorted keys; both find exactly the papers ``matches`` finds."""
    docs, papers = corpus
    index = Index.build(docs)
    monkeypatch.setattr(index_module, "PHRASE_FLAGS", flags)
    mdocs = {d.docno: match_doc(p) for d, p in zip(docs, papers, strict=True)}
    rng = random.Random(11)
    queries = ['"feature learning"', '"learning learning"', 'model -"neural networks"']
    for _ in range(25):
        words = papers[rng.randrange(len(papers))].title.split()
        n = rng.choice((2, 2, 3))
        if len(words) > n:
            i = rng.randrange(len(words) - n)
            phrase = " ".join(w.strip('".,:;()') for w in words[i : i + n])
            queries.append(f'"{phrase}"')
            queries.append(f'"{phrase}" model')
            queries.append(f'learning -"{phrase}"')
    checked = 0
    for text in queries:
        try:
            q = parse_query(text)
        except QueryError:  # a title piece that is no query (only common words, ...)
            continue
        want = {d for d, m in mdocs.items() if matches(q, m)}
        assert {h.docno for h in index.search(q, 100_000).hits} == want, text
        checked += 1
    assert checked > 40


def test_locate_by_bitset_rank_equals_the_postings(
    corpus: tuple[list[IndexDoc], list[Paper]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A common term's postings are located by its bitset's rank (bits before each docno),
    other terms by search or scatter: every way gives each docno's place in the postings,
    also after an update that removed and added papers."""
    docs, _ = corpus
    monkeypatch.setattr(index_module, "COMMON_MIN_DF", 100)
    monkeypatch.setattr(index_module, "CHAMPIONS", 64)
    monkeypatch.setattr(index_module, "CHAMPIONS_MIN", 48)
    monkeypatch.setattr(index_module, "RANKED_BITSETS", 3)  # the cache evicts too
    first = Index.build(docs[:1200])
    updated = first.updated(docs[1200:], removed=[d.docno for d in docs[:1200:7]])
    rng = np.random.default_rng(4)
    for index in (first, updated):
        data = index._data
        common = index._a["common_terms"].tolist()
        assert len(common) > 5
        every = np.arange(index.max_docno + 1, dtype=np.int32)
        for tid in [*common, *rng.integers(0, len(index._a["ptr"]) - 1, 20).tolist()]:
            lo, hi = int(data.ptr[tid]), int(data.ptr[tid + 1])
            postings = data.docs[lo:hi]
            for size in (3, 70, 400, len(every)):
                cand = np.sort(rng.choice(every, size, replace=False)).astype(np.int32)
                hit, g = data.locate(tid, cand)
                assert hit.tolist() == np.isin(cand, postings).tolist()
                assert g.tolist() == (lo + np.searchsorted(postings, cand[hit])).tolist()


def test_empty_corpus() -> None:
    index = Index.build([])
    assert index.n_docs == 0
    assert index.search(parse_query("anything"), 10).hits == ()
    assert index.search_terms(["x"], 10, mode="or").total == 0


def _doc(docno: int, text: str, authors: tuple[str, ...] = ()) -> IndexDoc:
    auths = tuple(Author(a, a.split()[-1], a.split()[0], a.lower()) for a in authors)
    return index_doc(docno, Paper(f"p{docno}", f"k{docno}", text, auths, "", "Venue", ""))


def test_term_in_exactly_half_the_docs_still_found() -> None:
    docs = [_doc(1, "alpha beta"), _doc(2, "alpha gamma"), _doc(3, "delta"), _doc(4, "omega")]
    index = Index.build(docs)
    result = index.search(parse_query("alpha"), 10)
    assert [h.docno for h in result.hits] == [1, 2]  # idf 0: score 0, still returned, by docno
    assert all(h.score == 0.0 for h in result.hits)
    bm = BM25Okapi([d.terms for d in docs])
    assert bm.get_scores(["alpha"]).tolist()[:2] == [0.0, 0.0]


def test_negative_idf_uses_the_epsilon_floor() -> None:
    docs = [_doc(1, "alpha beta"), _doc(2, "alpha gamma"), _doc(3, "alpha"), _doc(4, "zeta")]
    index = Index.build(docs)
    bm = BM25Okapi([d.terms for d in docs])
    got = index.search_terms(["alpha", "beta"], 10, mode="or")
    want = _expected(bm, docs, ["alpha", "beta"], 10, "or")
    assert [(h.docno, h.score) for h in got.hits] == want
    assert index.idf("alpha") == bm.idf["alpha"] > 0


def test_ties_keep_docno_order() -> None:
    docs = [_doc(n, "same words here") for n in (9, 4, 7, 1)]
    index = Index.build(docs)
    assert [h.docno for h in index.search(parse_query("words"), 10).hits] == [1, 4, 7, 9]
    assert [h.docno for h in index.search(parse_query("words"), 2, offset=1).hits] == [4, 7]


def test_save_load_round_trip(tmp_path: Path, corpus: tuple[list[IndexDoc], list[Paper]]) -> None:
    docs, _ = corpus
    index = Index.build(docs[:500], version=7)
    index.save(tmp_path / "ix")
    assert Index.saved_version(tmp_path / "ix") == 7
    loaded = Index.load(tmp_path / "ix")
    assert loaded.version == 7
    for text in ("model learning", '"feature learning"', "author:smith", "venue:neurips deep"):
        q = parse_query(text)
        assert loaded.search(q, 10) == index.search(q, 10)
    assert Index.saved_version(tmp_path / "missing") is None


def test_incremental_update_equals_rebuild(
    corpus: tuple[list[IndexDoc], list[Paper]], tmp_path: Path
) -> None:
    docs, papers = corpus
    base = Index.build(docs[:1200])
    base.save(tmp_path / "ix")
    loaded = Index.load(tmp_path / "ix")
    # append 500, replace 3 (same docno, new text), remove 4
    replaced = [index_doc(docs[i].docno, papers[1500 + i]) for i in (0, 5, 10)]
    removed = [docs[i].docno for i in (1, 2, 3, 1199)]
    updated = loaded.updated([*replaced, *docs[1200:1400]], removed=removed, version=2)
    final: dict[int, IndexDoc] = {d.docno: d for d in docs[:1400]}
    for d in replaced:
        final[d.docno] = d
    for r in removed:
        del final[r]
    ordered = [final[k] for k in sorted(final)]
    bm = BM25Okapi([d.terms for d in ordered])
    assert updated.n_docs == len(ordered)
    assert updated.average_idf() == bm.average_idf
    rng = random.Random(4)
    for terms in _query_terms(ordered, rng)[:60]:
        got = updated.search_terms(terms, 10)
        assert [(h.docno, h.score) for h in got.hits] == _expected(bm, ordered, terms, 10, "and")
    rebuilt = Index.build(ordered)
    for text in ('"feature learning"', "venue:arxiv model", "author:smith", "model -learning"):
        q = parse_query(text)
        assert updated.search(q, 20) == rebuilt.search(q, 20)
    assert not updated.is_live(docs[1].docno)
    assert updated.paper_id(docs[0].docno) == papers[1500].id


def test_similar_papers_exclude_the_paper(corpus: tuple[list[IndexDoc], list[Paper]]) -> None:
    docs, _ = corpus
    index = Index.build(docs)
    hits = index.similar(docs[0].docno, docs[0].terms, 5)
    assert 0 < len(hits) <= 5
    assert docs[0].docno not in {h.docno for h in hits}
    assert index.key_terms(docs[0].terms, 5)


@pytest.mark.parametrize("weigh_all", [0, 4096])
def test_similar_papers_are_the_exhaustive_or_query_top(
    corpus: tuple[list[IndexDoc], list[Paper]],
    reference: BM25Okapi,
    weigh_all: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The similar papers (the documents in several key terms' lists summed, the others
    weighed only when they can place) are the top of rank-bm25's scores over every paper
    holding a key term, scores equal bit for bit (asked again, in other threads, the answers
    are the same)."""
    monkeypatch.setattr(index_module, "SIMILAR_WEIGH_ALL", weigh_all)
    docs, _ = corpus
    index = Index.build(docs)
    cap = max(len(docs) // 100, 50)
    answers = {}
    for doc in docs[::5]:
        key = [t for t in index.key_terms(doc.terms) if index.doc_freq(t) <= cap]
        key = key or index.key_terms(doc.terms)
        best = [(d, s) for d, s in _expected(reference, docs, key, 21, "or") if d != doc.docno]
        for k in (1, 5, 20):
            got = index.similar(doc.docno, doc.terms, k)
            assert [(h.docno, h.score) for h in got] == best[:k]
            answers[doc.docno, k] = got
    by_docno = {d.docno: d for d in docs}

    def again(asked: tuple[int, int]) -> list[IndexHit]:
        docno, k = asked
        return index.similar(docno, by_docno[docno].terms, k)

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(again, answers)) == list(answers.values())


def test_similar_papers_leave_out_common_terms() -> None:
    """A term in more than 1% of the papers (and at least 50) picks no similar paper."""

    def doc(docno: int, words: str) -> IndexDoc:
        paper = Paper(f"p{docno:05d}", f"k{docno}", words, (), "", "", "")
        return index_doc(docno, paper)

    docs = [doc(1, "alpha common"), doc(2, "alpha other")]
    docs += [doc(3 + i, "common " + f"filler{i}") for i in range(100)]
    docs += [doc(103 + i, f"filler{i} rest") for i in range(5900)]
    docs.append(doc(6003, "common"))
    index = Index.build(docs)
    assert index.key_terms(docs[0].terms) == ["alpha", "common"]
    assert [h.docno for h in index.similar(1, docs[0].terms, 5)] == [2]
    # when every key term is common, they are all used
    assert len(index.similar(6003, docs[-1].terms, 5)) == 5


def test_term_ids_are_remembered_and_the_memo_is_bounded(
    corpus: tuple[list[IndexDoc], list[Paper]], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs, _ = corpus
    index = Index.build(docs)
    data = index._data
    monkeypatch.setattr(index_module, "TERM_STATS", 4)
    words = ["model", "learn", "never-seen", "featur", "model", "zzz", "learn"]
    for _ in range(3):
        assert data.term_ids(words) == [data.terms.id(w) for w in words]
        assert data.term_ids(["never-seen"]) == [None]
        assert len(data._term_stats) <= 4
    assert index.doc_freq("model") == data.df(data.terms.id("model") or 0) > 0


def test_doc_freq_and_ids(corpus: tuple[list[IndexDoc], list[Paper]]) -> None:
    docs, papers = corpus
    index = Index.build(docs)
    assert index.doc_freq("model") == sum("model" in d.terms for d in docs)
    assert index.doc_freq("never-seen") == 0
    assert index.docno_of(papers[10].id) == docs[10].docno
    assert index.docno_of("zzzzzzzz") is None
    assert index.title(docs[10].docno) == papers[10].title
    assert np.all(np.diff(index.docnos()) > 0)


@pytest.mark.parametrize("chunk", [64, 256])
def test_phrase_over_many_candidates_is_verified_best_first(
    corpus: tuple[list[IndexDoc], list[Paper]], monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The best candidates are verified a small slice first (eight times the hits wanted,
    within the best ``PHRASE_CHUNK``), then the others; whatever the page, its hits are the
    exact ones and the total an estimate."""
    from bot.core.index import phrases

    docs, _ = corpus
    index = Index.build(docs)
    q = parse_query('"feature learning" model')
    everything = index.search(q, 1000)
    assert everything.exact and everything.total > 20
    monkeypatch.setattr(index_module, "PHRASE_LAZY", 10)
    monkeypatch.setattr(index_module, "PHRASE_CHUNK", chunk)
    monkeypatch.setattr(index_module, "PHRASE_FIRST", 8)
    monkeypatch.setattr(index_module, "PHRASE_SAMPLE", 16)
    verified: list[int] = []
    real = phrases.phrase_on

    def counted(ix, cand, keep, phrase, cols, *, want):  # type: ignore[no-untyped-def]
        verified.append(len(cand))
        return real(ix, cand, keep, phrase, cols, want=want)

    monkeypatch.setattr(phrases, "phrase_on", counted)
    for k, offset in ((1, 0), (3, 0), (5, 5), (10, 0), (7, 13), (20, 0)):
        verified.clear()
        lazy = index.search(q, k, offset=offset)
        assert lazy.hits == everything.hits[offset : offset + k]
        if k + offset > chunk // 4:  # a deep page: every candidate verified, exact total
            assert lazy.exact and lazy.total == everything.total
            continue
        assert not lazy.exact and lazy.total > 0
        first = min(max(8, 8 * (k + offset)), chunk)
        # the first slice: its size, and candidates tied with its last score
        assert first <= verified[0] < first + 8


def test_chunked_builds_equal_one_chunk(
    corpus: tuple[list[IndexDoc], list[Paper]], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs, _ = corpus
    docs = docs[:600]
    whole = Index.build(docs)
    monkeypatch.setattr(index_module, "BUILD_CHUNK", 97)
    chunked = Index.build(docs)
    shuffled = list(docs)
    random.Random(5).shuffle(shuffled)
    unordered = Index.build(shuffled)
    assert unordered.average_idf() == whole.average_idf()
    for text in ("model", "model learning", '"feature learning"', "author:smith deep"):
        q = parse_query(text)
        assert chunked.search(q, 20) == whole.search(q, 20) == unordered.search(q, 20)
    for name in ("docs", "tfs", "pos", "ptr"):
        assert np.array_equal(chunked._a[name], whole._a[name])


def test_set_bits_lists_the_bits_of_a_word_bitset() -> None:
    from bot.core.index.data import set_bits, words64

    rng = np.random.default_rng(1)
    for n in (1, 7, 64, 65, 1000, 20_003):
        for density in (0.0, 0.01, 0.5, 1.0):
            mask = rng.random(n) < density
            words = words64(np.packbits(mask, bitorder="little"))
            assert set_bits(words).tolist() == np.flatnonzero(mask).tolist()


def _check_champions(index: Index) -> None:
    """Every common term: its champions are live documents holding it, every other posting's
    term-frequency part (at the current average length) is at most the bound, its bitset is
    exactly its documents."""
    from bot.core.index import bm25

    a = index._a
    data = index._data
    for slot, t in enumerate(a["common_terms"].tolist()):
        lo, hi = int(a["ptr"][t]), int(a["ptr"][t + 1])
        docs = np.asarray(a["docs"][lo:hi])
        champs = np.asarray(a["champ_docs"][a["champ_ptr"][slot] : a["champ_ptr"][slot + 1]])
        assert np.all(np.diff(champs) > 0) and np.isin(champs, docs).all()
        part = bm25.tf_part(np.asarray(a["tfs"][lo:hi]).astype(np.float64), data.norm[docs])
        rest = ~np.isin(docs, champs)
        assert not rest.any() or part[rest].max() <= a["champ_bound"][slot]
        bits = np.unpackbits(a["bitsets"][slot], bitorder="little")
        assert np.flatnonzero(bits).tolist() == docs.tolist()


def test_champions_carried_over_updates_stay_exact(
    corpus: tuple[list[IndexDoc], list[Paper]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update keeps the champions (new documents join the lists, the bound grows with the
    average length) until CHAMPION_REFRESH of the documents changed; searches of common terms
    stay rank-bm25's, through a save and a load too."""
    from bot.core.index.champions import CHANGED

    docs, papers = corpus
    monkeypatch.setattr(index_module, "COMMON_MIN_DF", 100)
    monkeypatch.setattr(index_module, "CHAMPIONS", 64)
    monkeypatch.setattr(index_module, "CHAMPIONS_MIN", 48)
    monkeypatch.setattr(index_module, "CHAMPION_REFRESH", 1 / 4)
    final: dict[int, IndexDoc] = {d.docno: d for d in docs[:1000]}
    index = Index.build(docs[:1000])
    long_text = [replace_text(papers[1500 + i], 3) for i in range(4)]  # longer: avgdl grows
    replaced = [index_doc(docs[i].docno, p) for i, p in enumerate(long_text)]
    steps: list[tuple[list[IndexDoc], list[int]]] = [
        (docs[1000:1080], []),
        ([*replaced, *docs[1080:1120]], [docs[i].docno for i in (10, 11, 12)]),
        (docs[1120:1200], [docs[1000].docno]),
        (docs[1200:1350], []),  # past a quarter changed: computed again
    ]
    rng = random.Random(5)
    for step, (add, removed) in enumerate(steps):
        index.save(tmp_path / "ix")
        index = Index.load(tmp_path / "ix").updated(add, removed=removed, version=step + 1)
        for d in add:
            final[d.docno] = d
        for r in removed:
            final.pop(r, None)
        carried = step < 3
        assert (CHANGED in index._meta) == carried
        _check_champions(index)
        ordered = [final[k] for k in sorted(final)]
        bm = BM25Okapi([d.terms for d in ordered])
        common = [index.term(int(t)) for t in index._a["common_terms"]]
        assert len(common) > 5
        pruned = 0
        for terms in [[t] for t in common] + [rng.sample(common, 2) for _ in range(20)]:
            got = index.search_terms(terms, 10)
            pruned += got.pruned
            want = _expected(bm, ordered, terms, 10, "and")
            assert [(h.docno, h.score) for h in got.hits] == want, (step, terms)
        assert pruned > 0


def replace_text(paper: Paper, times: int) -> Paper:
    from dataclasses import replace

    return replace(paper, abstract=" ".join([paper.abstract] * times))


def test_an_update_extends_the_warm_name_lists(
    corpus: tuple[list[IndexDoc], list[Paper]], tmp_path: Path
) -> None:
    """An update's sorted paper ids, author names (and their order) and sorted name words,
    extended from the warm lists of the index it updates, are the lists built from scratch:
    new documents past the end (sparse docnos, a longer id), new authors (one spelt as a known
    one) and name words, a replaced paper and removed ones; through a save and a load, as the
    Catalogue does."""
    from dataclasses import replace

    docs, papers = corpus
    base = Index.build(docs[:900])
    base.warm()
    newcomer = Author("Zyx Qwerty-Unseen", "Qwerty-Unseen", "Zyx", "zyx qwerty-unseen")
    known = papers[0].authors[0]  # a new author spelt as a known one: equal names
    twin = Author(known.display, known.last, known.first, known.key + " twin")
    longer = replace(papers[1500], id="longer-id-0123456789", authors=(newcomer, twin))
    new_text = replace(papers[1501], id=papers[3].id)  # an updated paper keeps its id
    added = [*docs[900:1000], index_doc(5000, longer), index_doc(docs[3].docno, new_text)]
    updated = base.updated(added, removed=[docs[5].docno, docs[6].docno], version=2)
    updated.save(tmp_path / "ix")
    loaded = Index.load(tmp_path / "ix", previous=base)
    carried = loaded.vocabulary  # the extending path is the one taken
    assert carried._carried_paper_ids(loaded._a["paper_ids"]) is not None
    assert carried._carried_strings("author_disp", base.vocabulary.author_names()) is not None
    assert carried._carried_sorted_words(carried.author_words()) is not None
    assert carried._carried_name_order(carried.author_names()) is not None
    for index in (updated, loaded):
        index.warm()
        plain = Index(index._a, index._meta)  # no previous index: built from scratch
        plain.warm()
        got, want = index.vocabulary, plain.vocabulary
        assert got._paper_ids()[0].tolist() == want._paper_ids()[0].tolist()
        assert got._paper_ids()[1].tolist() == want._paper_ids()[1].tolist()
        assert got.author_names() == want.author_names()
        assert got.authors_by_name().tolist() == want.authors_by_name().tolist()
        assert got.author_names().count(known.display) >= 2
        assert got.author_words() == want.author_words()
        assert got.author_words_sorted() == want.author_words_sorted()
        assert got.authors_by_sorted_word()[1].tolist() == want.authors_by_sorted_word()[1].tolist()
        assert index.docno_of("longer-id-0123456789") == 5000
        assert any("qwerty" in w for w in got.author_words_sorted())


@pytest.mark.parametrize("appended", [False, True])
def test_an_update_made_in_its_saved_files(
    corpus: tuple[list[IndexDoc], list[Paper]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    appended: bool,
) -> None:
    """An update given the generation it is saved to makes its postings, term frequencies,
    positions and bitsets right in their files (checksummed as they are filled; with papers
    only appended, the posting files are made up front and their pages mapped in the
    background): the saved files are byte for byte those of the same update made in memory
    and saved, and the index it returns searches the same."""
    import json

    from bot.core.index import IndexBuilder

    monkeypatch.setattr(index_module, "COMMON_MIN_DF", 100)  # champions, carried over
    monkeypatch.setattr(index_module, "CHAMPIONS", 64)
    monkeypatch.setattr(index_module, "CHAMPIONS_MIN", 48)
    docs, papers = corpus
    base = Index.build(docs[:1000])
    base.save(tmp_path / "base")
    base = Index.load(tmp_path / "base")
    add = [*docs[1000:1040], index_doc(docs[2].docno, papers[1500])]  # < 1/16 changed
    removed = [docs[7].docno]
    if appended:  # nothing replaced or removed
        add, removed = docs[1000:1040], []
    plain = base.updated(add, removed=removed, version=2)
    plain.save(tmp_path / "plain", stamp="s")
    builder = IndexBuilder(base=base)
    builder.add(add)
    draft = Index.draft(tmp_path / "made")
    made = builder.finish(2, removed=removed, draft=draft)
    for name in ("docs", "tfs", "pos", "pos_ckpt", "bitsets"):  # made in their files
        assert type(made._a[name].base).__name__ in ("memmap", "mmap"), name
    assert made._a["bitsets"].shape[0] > 5 and "champions_changed" in made._meta
    made.save(tmp_path / "made", stamp="s", draft=draft)
    gens = {name: next((tmp_path / name).glob("gen-*")) for name in ("plain", "made")}
    metas = {k: json.loads((g / "meta.json").read_text()) for k, g in gens.items()}
    assert metas["plain"] == metas["made"]
    for name in metas["plain"]["files"]:
        want = (gens["plain"] / f"{name}.npy").read_bytes()
        assert (gens["made"] / f"{name}.npy").read_bytes() == want, name
    assert not list((tmp_path / "made").glob("tmp-*"))
    loaded = Index.load(tmp_path / "made", stamp="s")
    for text in ("model learning", '"feature learning"', "author:smith", "venue:arxiv deep"):
        q = parse_query(text)
        assert loaded.search(q, 10) == made.search(q, 10) == plain.search(q, 10)


@pytest.mark.parametrize("weigh_all", [0, 200, 4096])
def test_or_top_is_the_exhaustive_top_on_every_path(
    weigh_all: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``top_or`` (documents in several lists summed in query order; a list weighed posting
    by posting only when its bound reaches the floor; every posting when fewer than ``want``
    documents repeat) is ``top(score_or)`` bit for bit: lists that overlap much, little or
    not at all, repeated tfs, identical documents (ties), an update with removed documents."""
    monkeypatch.setattr(index_module, "SIMILAR_WEIGH_ALL", weigh_all)
    rng = random.Random(11)

    def doc(docno: int) -> IndexDoc:
        size = rng.choice((5, 40, 400))
        words = [f"w{min(int(rng.paretovariate(0.8)), size)}" for _ in range(rng.randint(1, 8))]
        return index_doc(
            docno, Paper(f"p{docno:05d}", f"k{docno}", " ".join(words), (), "", "", "")
        )

    for trial in range(12):
        docs = [doc(2 * i + 1) for i in range(rng.choice((30, 300, 1500)))]
        docs += [
            index_doc(
                d.docno + 1,
                Paper(f"q{d.docno:05d}", f"c{d.docno}", " ".join(d.terms[:3]), (), "", "", ""),
            )
            for d in docs[:: rng.choice((3, 50))]
        ]
        index = Index.build(docs)
        if trial % 3 == 0:
            index = index.updated(
                [doc(10_000 + i) for i in range(50)], removed=[d.docno for d in docs[::4]]
            )
        data = index._data
        n_terms = len(data.ptr) - 1
        for _ in range(25):
            tids = rng.sample(range(n_terms), min(n_terms, rng.randint(1, 12)))
            cand, scores = scoring.score_or(data, tids)
            for want in (1, 3, 6, 21):
                assert scoring.top_or(data, tids, want) == scoring.top(data, cand, scores, want)


def test_term_stats_are_the_vocabularys(
    corpus: tuple[list[IndexDoc], list[Paper]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``term_stats`` (what key terms read, cached per index) is each word's id, df and idf,
    None for a word the index lacks; asked again, or past the cache's bound, the same."""
    docs, _ = corpus
    monkeypatch.setattr(index_module, "TERM_STATS", 40)
    data = Index.build(docs)._data
    words = [*dict.fromkeys(t for d in docs[:30] for t in d.terms), "zzznotaword", "model"]
    expected = [
        None if (tid := data.term_id(w)) is None else (tid, data.df(tid), data.idf(tid))
        for w in words
    ]
    assert expected[-2] is None and expected[-1] is not None
    for _ in range(2):
        assert data.term_stats(words) == expected
        assert data.term_stats(words[::-1]) == expected[::-1]
        assert data.term_stats(words[:10]) == expected[:10]
