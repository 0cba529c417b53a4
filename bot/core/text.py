"""Text normalisation shared by parsing, indexing, queries and subscriptions.

Everything that compares text compares ``fold``-ed text: NFKC, case-folded, accents removed,
so "Mézard", "MEZARD" and "Mezard" meet.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into base letter + combining mark.
_SPECIAL_FOLDS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ß": "ss",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
    }
)

_SPACE_RE = re.compile(r"\s+")


def normalise_space(text: str) -> str:
    """Collapse every run of Unicode white space (no-break spaces included) to one space."""
    return _SPACE_RE.sub(" ", text).strip()


def fold(text: str) -> str:
    """NFKC, case-fold and strip accents: the comparison form of any text."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_SPECIAL_FOLDS)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


_NON_WORD_RE = re.compile(r"[\W_]+")


def identity_form(text: str) -> str:
    """Fold and keep only letters and digits, single-spaced: the form used for paper identity."""
    return _NON_WORD_RE.sub(" ", fold(text)).strip()
