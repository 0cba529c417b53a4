"""How a typed paper id is read: the one rule for every place that looks a paper up by id.

A paper's id is the first 8 (on a clash 9, 10, ...) characters of its key in Crockford's
base32, lower-case (:func:`bot.core.parser.short_id`): digits and the letters other than
i, l, o and u. People copy it, retype it from a card, or read it aloud, so a typed id is
forgiven what Crockford's encoding forgives:

* surrounding whitespace, and case (``8T72ZH2V`` is ``8t72zh2v``);
* hyphens, anywhere (``8T72-ZH2V``): Crockford's encoding ignores them, so people may
  group the characters;
* the reading aids: ``o`` is ``0``, ``i`` and ``l`` are ``1``.

A space inside is kept: ``8t72 zh2v`` is two words, which the places that read ids (the
``/paper`` option and its autocomplete) take as title words, not as an id -- in an
autocomplete, a title prefix of a few short words would otherwise be read as an id prefix
and fill the suggestions with ids.

The rule is idempotent, so reading an id twice is harmless (and once is enough). Pure.
"""

from __future__ import annotations

# Crockford base32 reading aids: o -> 0, i / l -> 1 (ids never contain o, i, l or u).
_READING = str.maketrans({"o": "0", "i": "1", "l": "1", "-": None})


def normalise_paper_id(text: str) -> str:
    """A typed paper id in canonical form: trimmed, lower-case, hyphens dropped, Crockford's
    reading aids applied (``" 6BOZ-L7R6 "`` -> ``"6b0z17r6"``)."""
    return text.strip().lower().translate(_READING)
