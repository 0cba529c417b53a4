"""A digest made to break Discord limits: a huge abstract, 60 authors, ``@everyone``, Markdown,
mentions with short ids and invisible (zero-width, bidi) characters."""

from __future__ import annotations

NBSP = "\u00a0"

STRESS_TITLE = (
    "@everyone Hyperbolic **Stress** Tests of _Embedding_ Limits with <@123456789012345678> "
    "<@&999> <#12> and `code` in the Zero\u200bWidth \u202eTitle"
)
STRESS_VENUE = "Journal of *Pathological* Inputs"
STRESS_AUTHORS = [(f"Zyxwvut{i:02d}", f"Quintessa{i:02d}") for i in range(60)]
STRESS_WORD = "hyperbolic"


def stress_abstract(length: int = 10_000) -> str:
    sentence = (
        "We study hyperbolic embeddings under adversarial formatting: **bold**, __underline__, "
        "~~strike~~, `code`, > quotes, # headings and @here pings must all stay inert. "
    )
    text = ""
    while len(text) < length:
        text += sentence
    return text[:length].rstrip() + "."


COMPANION_AUTHOR = "Jane Plain"
COMPANION_TOPICS = (
    "Trees",
    "Social Networks",
    "Knowledge Graphs",
    "Word Hierarchies",
    "Protein Interactions",
    "Citation Graphs",
    "Road Networks",
    "Phylogenies",
)


def companion_titles() -> list[str]:
    return [
        f"Hyperbolic Embeddings of {topic}: A Quiet Companion Study" for topic in COMPANION_TOPICS
    ]


def stress_digest() -> str:
    """One digest file (the real format): the stress paper, then eight ordinary papers by
    the same first author (enough to page an author card and the latest digest)."""
    authors = ", ".join(f"{last}, {first}" for last, first in STRESS_AUTHORS)
    lines = [
        "Goto",
        "",
        "Collaborating Authors",
        "",
        f"{NBSP}Stress County",
        "",
        "",
        STRESS_TITLE,
        "",
        authors,
        "",
        STRESS_VENUE,
        "",
        stress_abstract(),
    ]
    for title, topic in zip(companion_titles(), COMPANION_TOPICS, strict=True):
        lines += [
            "",
            "",
            title,
            "",
            "Plain, Jane, Ordinary, Joe",
            "",
            "arXiv.org Machine Learning",
            "",
            f"Hyperbolic geometry gives embeddings of {topic.lower()} low distortion. We "
            "measure it, and report when it helps and when it does not.",
        ]
    return "\n".join(lines) + "\n"
