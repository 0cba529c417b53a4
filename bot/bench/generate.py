"""Seeded synthetic digests in the real format, for benchmarks and tests.

Deterministic for a seed: file ``i`` depends only on (seed, i), so a benchmark can generate a
corpus and then "the next digest" to add. Papers have Title Case titles with technical terms
("multi-layer", "16M", "2D", "GPT-4", "depth-muP"), author lists of a Zipf-productive population
with diacritics and particles (Müller, García-López, O'Brien, van der Berg), venues with their
real names, and multi-sentence abstracts whose content words follow a Zipf law, with topical
words, collocations ("feature learning", "scaling laws") and English function words.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BASE_WORDS = """
model learning neural network data training deep method results performance approach
propose task show large language models based framework using new problem paper algorithm
methods two information tasks different existing analysis state experiments work
attention high structure efficient transformer graph optimization representation features
feature representations accuracy inference datasets dataset generalization study time
system systems recent generation benchmark reasoning prediction robust distribution loss
scale scaling scales scaled law laws dynamics theory theoretical regime limit width depth
gradient descent stochastic convergence kernel random matrix sample complexity bounds bound
policy reinforcement agent agents reward environment control planning exploration offline
image images vision visual video segmentation detection object pixel diffusion generative
text retrieval question answering knowledge dialogue token tokens context memory sequence
quantum physics statistical mechanics energy molecular chemistry protein materials
causal inference estimation bayesian posterior prior uncertainty probabilistic variational
federated privacy differential secure attack adversarial robustness defense fairness bias
sparse sparsity pruning quantization compression efficient hardware latency throughput
clustering embedding embeddings contrastive supervised unsupervised semi self labels label
evaluation metrics human preference alignment safety instruction tuning fine pretrained
pretraining downstream transfer domain adaptation shift continual lifelong meta few shot
zero layer layers residual blocks block activation weights parameters hyperparameter
initialization normalization batch optimizer adam momentum learning-rate schedule warmup
interpolation overparameterized teacher student specialisation phase transition replica
equivariant symmetry invariant geometric manifold topology spectral eigenvalues operator
physics-informed differential equations navier stokes fluid turbulence simulation solver
recommendation click ranking search user users items collaborative signals retrieval-augmented
speech audio acoustic music signal processing temporal series forecasting anomaly detection
"""

FUNCTION_WORDS = [
    "the",
    "of",
    "and",
    "a",
    "to",
    "in",
    "for",
    "is",
    "we",
    "that",
    "with",
    "on",
    "this",
    "by",
    "as",
    "are",
    "from",
    "an",
    "be",
    "which",
    "our",
    "can",
    "it",
    "these",
    "their",
    "at",
    "its",
    "such",
    "not",
    "or",
    "also",
    "has",
    "have",
    "both",
    "while",
    "than",
    "into",
    "over",
    "under",
    "more",
    "most",
    "when",
    "where",
    "how",
    "what",
    "between",
    "through",
    "across",
    "however",
    "further",
]

COLLOCATIONS = (
    "feature learning", "scaling laws", "neural networks", "graph neural networks",
    "large language models", "reinforcement learning", "diffusion models", "gradient descent",
    "attention mechanism", "in-context learning", "mixture of experts", "chain of thought",
    "state space models", "kernel methods", "mean field", "phase transition",
    "teacher-student setting", "sample complexity", "out-of-distribution generalization",
    "self-supervised learning", "vision transformers", "contrastive learning",
    "hyperparameter transfer", "infinite-width limit", "curse of dimensionality",
)  # fmt: skip

TECH_TERMS = (
    "multi-layer", "depth-muP", "muP", "16M", "2D", "3D", "GPT-4", "GPT-5", "ResNet-50",
    "BERT", "LLaMA", "ViT", "U-Net", "state-of-the-art", "end-to-end", "1/sqrt(depth)",
    "O(n log n)", "k-means", "t-SNE", "Navier-Stokes", "Ornstein-Uhlenbeck", "8B-parameter",
    "long-context", "real-time", "zero-shot", "few-shot", "fine-grained", "large-scale",
    "high-dimensional", "non-linear", "Bayes-optimal", "cross-entropy", "mid-training",
)  # fmt: skip

FIRST_NAMES = (
    "Zihan", "Ruoyu", "Tianxiang", "Jean", "Francesco", "Minh-Toan", "Mauro", "Rudy", "Noa",
    "Orit", "Zohar", "Anna", "Lukas", "Łukasz", "Zoë", "José", "María", "Søren", "Björn",
    "Chloé", "François", "Héctor", "Ines", "Yuki", "Hiroshi", "Priya", "Arjun", "Fatima",
    "Omar", "Sean", "Siobhán", "Olga", "Dmitri", "Ana", "Pedro", "Elif", "Mehmet", "Kwame",
    "Ngozi", "Wei", "Li", "Jun", "Seo-yeon", "Ji-ho", "Aarav", "Emma", "Liam", "Noah",
    "Olivia", "Mia", "Lucas", "Sofia", "Mateo", "Camille", "Léa", "Jürgen", "Kateřina",
    "Tomáš", "Ewa", "Agnieszka", "Nguyễn", "Thảo", "Rafael", "Beatriz", "Giulia", "Matteo",
)  # fmt: skip

LAST_NAMES = (
    "Yao", "Wu", "Gao", "Barbier", "Camilli", "Nguyen", "Pastore", "Skerk", "Rubin",
    "Davidovich", "Ringel", "Müller", "García-López", "O'Brien", "van der Berg", "de la Cruz",
    "Dvořák", "Østergaard", "Łukaszewicz", "Çelik", "Ibáñez", "Schröder", "Mézard", "Zdeborová",
    "Krzakala", "Smith", "Johnson", "Lee", "Kim", "Park", "Chen", "Wang", "Zhang", "Liu",
    "Li", "Yang", "Huang", "Zhao", "Zhou", "Sun", "Ma", "Patel", "Singh", "Kumar", "Sharma",
    "Okafor", "Mensah", "Haddad", "Rossi", "Russo", "Ferrari", "Bianchi", "Dubois", "Lefèvre",
    "Moreau", "Novak", "Kowalski", "Nowak", "Ivanov", "Petrov", "Sokolova", "Tanaka", "Sato",
    "Suzuki", "Takahashi", "Watanabe", "Silva", "Santos", "Oliveira", "Pereira", "Costa",
    "Fernández", "González", "Rodríguez", "Martínez", "Hernández", "López", "Pérez", "Sánchez",
    "Andersson", "Johansson", "Nielsen", "Hansen", "Virtanen", "Korhonen", "Murphy", "Kelly",
    "MacDonald", "D'Angelo", "Al-Farsi", "ben Haim", "von Neumann", "St. Clair",
)  # fmt: skip

VENUES = (
    ("arXiv.org Machine Learning", 30),
    ("arXiv.org Artificial Intelligence", 20),
    ("Neural Information Processing Systems", 12),
    ("International Conference on Machine Learning", 9),
    ("International Conference on Learning Representations", 9),
    ("Conference on Computer Vision and Pattern Recognition", 5),
    ("Association for Computational Linguistics", 4),
    ("Empirical Methods in Natural Language Processing", 3),
    ("AAAI Conference on Artificial Intelligence", 3),
    ("Transactions on Machine Learning Research", 2),
    ("Journal of Machine Learning Research", 1),
    ("Physical Review Letters", 1),
    ("Conference on Learning Theory", 1),
)

TOPIC_HEADINGS = (
    "Clay County", "Machine Learning", "Statistical Physics", "Language Models", "Vision",
    "Reinforcement Learning", "Theory", "Optimization",
)  # fmt: skip

_SYLLABLES = [
    "ka",
    "to",
    "ri",
    "mu",
    "se",
    "na",
    "lo",
    "vi",
    "pe",
    "ra",
    "ne",
    "zu",
    "ti",
    "bo",
    "da",
    "ge",
    "fa",
    "lu",
    "mi",
    "so",
    "qu",
    "ex",
    "tra",
    "con",
    "pro",
    "syn",
    "ter",
    "mor",
    "dyn",
    "ph",
    "gr",
    "st",
    "cl",
    "br",
    "tr",
    "ion",
    "al",
    "ic",
    "ive",
    "ous",
    "ent",
    "ant",
    "ure",
    "ize",
    "ation",
    "ity",
]


@dataclass(frozen=True, slots=True)
class _World:
    """Everything shared by every file of a seed: vocabulary, people, venues."""

    table: list[str]  # words, then Capitalised words, then words with a full stop
    n_content: int  # content words come first in ``table`` (Zipf ranks)
    word_cdf: np.ndarray
    function_ids: np.ndarray  # indices in ``table`` of function words
    special_ids: np.ndarray  # collocations and technical terms
    topics: np.ndarray  # (n_topics, topic_size) content word indices
    people: list[tuple[str, str]]  # (last, first)
    people_cdf: np.ndarray
    venues: list[str]
    venue_cdf: np.ndarray


_WORLD_CACHE: dict[int, _World] = {}


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights, dtype=np.float64)
    out: np.ndarray = cdf / cdf[-1]
    return out


def made_up_names(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` names of 2-3 syllables: the syllables of all of them drawn in one call, which
    draws what one call per name would (numpy's bounded integers take consecutive 32-bit
    outputs of the generator; tests/bench/test_generate.py checks it), ~25x faster."""
    lens = rng.integers(2, 4, count)
    syllables = [_SYLLABLES[i] for i in rng.integers(0, len(_SYLLABLES), int(lens.sum())).tolist()]
    out: list[str] = []
    start = 0
    for end in np.cumsum(lens).tolist():
        out.append("".join(syllables[start:end]).capitalize())
        start = end
    return out


def _world(seed: int, vocab: int = 40_000, population: int = 200_000) -> _World:
    cached = _WORLD_CACHE.get(seed)
    if cached is not None:
        return cached
    rng = np.random.default_rng([seed, 0])
    base = list(dict.fromkeys(BASE_WORDS.split()))
    seen: set[str] = set(base)
    words = list(base)
    while len(words) < vocab:
        n = int(rng.integers(2, 5))
        w = "".join(_SYLLABLES[int(i)] for i in rng.integers(0, len(_SYLLABLES), n))
        for variant in (w, w + "s", w + "ing", w + "ed") if rng.random() < 0.2 else (w,):
            if variant not in seen and len(words) < vocab:
                seen.add(variant)
                words.append(variant)
    n_content = len(words)
    specials = list(COLLOCATIONS) + list(TECH_TERMS)
    plain = words + FUNCTION_WORDS + specials
    table = plain + [w[0].upper() + w[1:] for w in plain] + [w + "." for w in plain]
    ranks = np.arange(1, n_content + 1, dtype=np.float64)
    topics = 20 + (rng.pareto(1.2, size=(300, 150)) * 200).astype(np.int64) % (n_content - 20)
    # a tenth of the people carry the listed names; the others made-up last names
    made_up = made_up_names(rng, population)
    listed = rng.random(population) < 0.1
    people = [
        (LAST_NAMES[int(a)] if listed[i] else made_up[i], FIRST_NAMES[int(b)])
        for i, (a, b) in enumerate(
            zip(
                rng.integers(0, len(LAST_NAMES), population),
                rng.integers(0, len(FIRST_NAMES), population),
                strict=True,
            )
        )
    ]
    # initials-only first names for some people, as digests sometimes have
    people = [
        (last, f"{first[0]}." if i % 37 == 0 else first) for i, (last, first) in enumerate(people)
    ]
    vw = np.array([w for _, w in VENUES], dtype=np.float64)
    world = _World(
        table=table,
        n_content=n_content,
        word_cdf=_cdf(1.0 / (ranks + 20.0)),  # Zipf-Mandelbrot: no word in every abstract
        function_ids=np.arange(n_content, n_content + len(FUNCTION_WORDS)),
        special_ids=np.arange(n_content + len(FUNCTION_WORDS), len(plain)),
        topics=topics,
        people=people,
        people_cdf=_cdf(1.0 / np.arange(1, population + 1, dtype=np.float64) ** 0.8),
        venues=[v for v, _ in VENUES],
        venue_cdf=_cdf(vw),
    )
    _WORLD_CACHE[seed] = world
    return world


def _pick(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    out: np.ndarray = np.minimum(np.searchsorted(cdf, rng.random(n)), len(cdf) - 1)
    return out


def _abstract(rng: np.random.Generator, w: _World, topic: np.ndarray) -> str:
    lengths = rng.integers(8, 20, int(rng.integers(5, 10)))
    n = int(lengths.sum())
    ids = _pick(rng, w.word_cdf, n)
    topical = rng.random(n) < 0.3
    ids[topical] = topic[rng.integers(0, len(topic), int(topical.sum()))]
    r = rng.random(n)
    special = r > 0.96
    ids[special] = w.special_ids[rng.integers(0, len(w.special_ids), int(special.sum()))]
    # a function word before ~42% of the content words
    func = np.where(r < 0.42, w.function_ids[rng.integers(0, len(w.function_ids), n)], -1)
    tokens = np.stack([func, ids], axis=1).reshape(-1)
    keep = tokens >= 0
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # sentence starts are Capitalised (the function word if there is one), ends take a stop
    first_slot = np.where(func[starts] >= 0, 2 * starts, 2 * starts + 1)
    tokens[first_slot] += len(w.table) // 3
    tokens[2 * (starts + lengths - 1) + 1] += 2 * (len(w.table) // 3)
    table = w.table
    text = " ".join(map(table.__getitem__, tokens[keep].tolist()))
    if rng.random() < 0.15:
        cut = text.find(". ", len(text) // 2)
        if cut > 0:
            text = text[: cut + 1] + "\n\n" + text[cut + 2 :]
    return text


_SMALL = frozenset({"of", "and", "in", "for", "on", "via", "with", "the", "to", "a"})


def _title(rng: np.random.Generator, w: _World, topic: np.ndarray) -> str:
    n = int(rng.integers(3, 9))
    parts = [w.table[int(i)] for i in topic[rng.integers(0, len(topic), n)]]
    if rng.random() < 0.5:
        pick = COLLOCATIONS[int(rng.integers(0, len(COLLOCATIONS)))]
        parts.insert(int(rng.integers(0, len(parts) + 1)), pick)
    if rng.random() < 0.25:
        pick = TECH_TERMS[int(rng.integers(0, len(TECH_TERMS)))]
        parts.insert(int(rng.integers(0, len(parts) + 1)), pick)
    if rng.random() < 0.4:
        parts.insert(
            int(rng.integers(1, len(parts))),
            ["of", "for", "via", "in", "with"][int(rng.integers(0, 5))],
        )
    words = " ".join(parts).split()
    titled = [
        x if (i and x in _SMALL) or not x[0].isalpha() or x[0].isupper() else x[0].upper() + x[1:]
        for i, x in enumerate(words)
    ]
    if len(titled) > 3 and rng.random() < 0.3:
        cut = int(rng.integers(1, len(titled) - 1))
        return " ".join(titled[:cut]) + ": " + " ".join(titled[cut:])
    return " ".join(titled)


def generate_papers(seed: int, file_index: int, count: int) -> Iterator[tuple[str, str, str, str]]:
    """(title, authors line, venue, abstract) for the papers of one generated file."""
    w = _world(seed)
    rng = np.random.default_rng([seed, 1, file_index])
    for _ in range(count):
        topic = w.topics[int(rng.integers(0, len(w.topics)))]
        title = _title(rng, w, topic)
        n_auth = min(int(rng.geometric(0.3)), 30)
        idx = _pick(rng, w.people_cdf, n_auth)
        people = [w.people[int(i)] for i in dict.fromkeys(idx.tolist())]
        authors = ", ".join(f"{last}, {first}" for last, first in people)
        venue = w.venues[int(_pick(rng, w.venue_cdf, 1)[0])]
        yield title, authors, venue, _abstract(rng, w, topic)


def digest_text(seed: int, file_index: int, count: int) -> str:
    """One digest file's text, in the real format (header, then entries)."""
    heading = TOPIC_HEADINGS[file_index % len(TOPIC_HEADINGS)]
    out = [f"Goto\n\nCollaborating Authors\n\n\u00a0{heading}\n"]
    for title, authors, venue, abstract in generate_papers(seed, file_index, count):
        out.append(f"\n\n{title}\n\n{authors}\n\n{venue}\n\n{abstract}\n")
    return "".join(out)


def digest_name(seed: int, file_index: int) -> str:
    tag = hashlib.sha256(f"{seed}:{file_index}".encode()).hexdigest()[:16]
    return f"{file_index:05d}_{tag}.txt"


def _write_one(args: tuple[str, int, int, int]) -> str:
    out, seed, index, count = args
    path = Path(out) / digest_name(seed, index)
    path.write_text(digest_text(seed, index, count), encoding="utf-8")
    return str(path)


def write_digests(
    out_dir: str | Path,
    papers: int,
    *,
    seed: int = 0,
    per_file: int = 1000,
    start: int = 0,
    workers: int = 1,
) -> list[Path]:
    """Write ``papers`` papers in files of ``per_file`` (file indices from ``start``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, int, int, int]] = []
    index, left = start, papers
    while left > 0:
        count = min(per_file, left)
        jobs.append((str(out), seed, index, count))
        left -= count
        index += 1
    if workers > 1 and len(jobs) > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return [Path(p) for p in pool.map(_write_one, jobs, chunksize=4)]
    return [Path(_write_one(job)) for job in jobs]
