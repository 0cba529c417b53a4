"""The seeded generator: fast, and the same corpus for the same seed (cached corpora and the
figures in docs/benchmarks.md stay comparable)."""

from __future__ import annotations

import hashlib

import numpy as np

from bot.bench.generate import _SYLLABLES, digest_text, made_up_names


def test_made_up_names_in_one_draw_are_the_names_drawn_one_by_one() -> None:
    for seed in (0, 3, 11):
        one_by_one = np.random.default_rng([seed, 0])
        expected = [
            "".join(
                _SYLLABLES[int(i)] for i in one_by_one.integers(0, len(_SYLLABLES), int(n))
            ).capitalize()
            for n in one_by_one.integers(2, 4, 5_000)
        ]
        at_once = np.random.default_rng([seed, 0])
        assert made_up_names(at_once, 5_000) == expected
        # and the generator is left where the one-by-one draws leave it
        assert at_once.random(4).tolist() == one_by_one.random(4).tolist()


def test_the_corpus_of_a_seed_is_unchanged() -> None:
    # digest 3 of seed 0: the file `digest-bot bench` generates (00003_76d3c2eeff0f7e93.txt)
    text = digest_text(0, 3, 50)
    expected = "6495222ca29fd97b5aefed083e4fc1a7496bc7511ad5b1f838995728eb84a1cb"
    assert hashlib.sha256(text.encode()).hexdigest() == expected
