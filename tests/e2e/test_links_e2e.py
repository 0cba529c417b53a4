"""Links, link buttons, Cite and Full abstract, end to end: the real bot and the double.

A digest with identifier lines beside the seed: /paper links its title and shows Abstract /
PDF / DOI link buttons (a paper without identifiers: one labelled title search), Cite answers
privately with a BibTeX entry that bibtexparser reads, Full abstract shows the whole text;
/search, /author and /latest link titles; the Subscribe button follows the clicker's
permissions; alert messages carry link buttons and an Open control.

Set ``DIGEST_BOT_SCENES=DIR`` to also write what the bot sent as discord-render scenes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from bibtexparser.entrypoint import parse_string

from bot.ui.format import safe
from tests.discord_double import NotInvocableError
from tests.e2e.conftest import Running, serving
from tests.e2e.harness import copy_seeds
from tests.e2e.payloads import (
    answer,
    button,
    components,
    embed,
    embed_text,
    is_ephemeral,
    paper_titled,
    select,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

JSON = dict[str, Any]
LONG = (
    "Transformers follow scaling laws in depth and width. We measure them on many tasks and "
    "report where they bend. "
) * 12
LINKED = f"""\
Linked Scaling Laws for Transformers

Doe, Jane, Roe, Rick

arXiv.org Machine Learning

{LONG}

https://arxiv.org/abs/2412.01234v2
doi:10.1000/Linked.1


Graph Kernels on a Landing Page

Doe, Jane

Journal of Graph Things

Graph kernels, measured on a landing page that only has its own URL as an identifier.

https://example.org/papers/graph-kernels


A Paper With Only A DOI

Roe, Rick

Physical Review Letters

A short abstract about a paper that has a DOI and nothing else.

DOI: 10.1103/PhysRevLett.7
"""
LINKED_NAME = "arxiv-2025-01-31.txt"
ABS = "https://arxiv.org/abs/2412.01234"


def scene(name: str, messages: list[JSON], title: str = "") -> None:
    """Write a discord-render scene of ``messages`` when DIGEST_BOT_SCENES is set."""
    folder = os.environ.get("DIGEST_BOT_SCENES")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{name}.json").write_text(
        json.dumps({"title": title or name, "messages": messages}, indent=1), encoding="utf-8"
    )


def shown(message: JSON, user: str | None = None, command: str | None = None) -> JSON:
    """A scene message from a message payload the bot sent."""
    out: JSON = {
        "author": "digest-bot",
        "bot": True,
        "content": message.get("content") or "",
        "embeds": message.get("embeds") or [],
        "components": message.get("components") or [],
        "ephemeral": is_ephemeral(message),
    }
    if command:
        out["command"] = {"user": user or "member", "name": command}
    return out


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    workdir = tmp_path_factory.mktemp("links")
    digests = copy_seeds(workdir / "digests", {LINKED_NAME: LINKED})
    async with serving(workdir, digests) as running:
        yield running


async def test_paper_card_links_cite_and_full_abstract(running: Running) -> None:
    double = running.double
    body = await answer(await double.invoke_slash("paper", {"paper": "Linked Scaling Laws"}))
    card = embed(body)
    assert card["title"] == "Linked Scaling Laws for Transformers"
    assert card["url"] == ABS
    row = components(body)
    links = [(c["label"], c["url"]) for c in row if c.get("style") == 5]
    assert links == [
        ("Abstract", ABS),
        ("PDF", "https://arxiv.org/pdf/2412.01234"),
        ("DOI", "https://doi.org/10.1000/Linked.1"),
    ]
    assert all("custom_id" not in c for c in row if c.get("style") == 5)
    with pytest.raises(NotInvocableError):  # a link opens in the browser; the bot hears nothing
        await double.click(body, "Abstract")
    fields = {f["name"]: f["value"] for f in card["fields"]}
    assert fields["In 1 digest"].startswith("2025-01-31 · arxiv-2025-01-31.txt · indexed")

    # Cite: anyone may click it on the public card and gets the entry privately.
    cite = await answer(
        await double.click(body, button(body, "Cite")["custom_id"], user=double.moderator)
    )
    assert is_ephemeral(cite)
    text = cite["content"]
    block = re.search(r"```bibtex\n(.*)\n```", text, re.DOTALL)
    assert block is not None, text
    [entry] = parse_string(block.group(1)).entries
    values = {k: v.value for k, v in entry.fields_dict.items()}
    assert entry.key == card["footer"]["text"].split()[-1]
    assert values["eprint"] == "2412.01234" and values["archivePrefix"] == "arXiv"
    assert values["doi"] == "10.1000/Linked.1" and values["year"] == "2025"
    assert values["author"] == "Doe, Jane and Roe, Rick"

    full = await answer(await double.click(body, button(body, "Full abstract")["custom_id"]))
    assert is_ephemeral(full)
    assert embed(full)["description"] == safe(LONG)
    assert embed(full)["url"] == ABS
    scene(
        "paper-linked",
        [shown(body, "member", "paper"), shown(cite, "moderator"), shown(full, "member")],
        "/paper with identifiers; Cite; Full abstract",
    )
    double.assert_no_violations()


async def test_a_paper_without_identifiers_offers_a_labelled_title_search(
    running: Running,
) -> None:
    double = running.double
    scaling = paper_titled("Understanding Scaling Laws")
    body = await answer(await double.invoke_slash("paper", {"paper": scaling.id}))
    card = embed(body)
    assert "url" not in card
    links = [c for c in components(body) if c.get("style") == 5]
    assert [c["label"] for c in links] == ["Search arXiv for this title"]
    assert links[0]["url"].startswith("https://arxiv.org/search/?query=%22Understanding%20")
    assert links[0]["url"].endswith("&searchtype=title")
    assert [c["label"] for c in components(body) if c.get("type") == 2][-3:] == [
        "Cite",
        "Full abstract",
        "Save",  # Save: on its own row
    ]
    scene("paper-seed", [shown(body, "member", "paper")], "/paper of a seed paper")
    landing = await answer(await double.invoke_slash("paper", {"paper": "Graph Kernels"}))
    assert embed(landing)["url"] == "https://example.org/papers/graph-kernels"
    assert [c["label"] for c in components(landing) if c.get("style") == 5] == ["Abstract"]
    doi_only = await answer(await double.invoke_slash("paper", {"paper": "10.1103/PhysRevLett.7"}))
    assert embed(doi_only)["url"] == "https://doi.org/10.1103/PhysRevLett.7"
    scene(
        "paper-landing-doi",
        [shown(landing, "member", "paper"), shown(doi_only, "member", "paper")],
        "/paper: URL only; DOI only",
    )
    double.assert_no_violations()


async def test_lists_link_their_titles(running: Running) -> None:
    double = running.double
    search = await answer(await double.invoke_slash("search", {"query": "scaling laws"}))
    values = [f["value"] for f in embed(search)["fields"]]
    linked = [v for v in values if v.startswith("[**Linked Scaling Laws for Transformers**]")]
    assert linked and f"]({ABS})" in linked[0]
    assert any(v.startswith("**Understanding Scaling Laws") for v in values)  # no identifier

    author = await answer(await double.invoke_slash("author", {"name": "Jane Doe"}))
    description = embed(author)["description"]
    assert f"[Linked Scaling Laws for Transformers]({ABS})" in description
    assert "[Graph Kernels on a Landing Page](https://example.org/papers/graph-kernels)" in (
        description
    )

    latest = await answer(await double.invoke_slash("latest"))
    assert embed(latest)["title"] == "Latest digest: 2025-01-31 · arxiv-2025-01-31.txt"
    assert f"**1.** [Linked Scaling Laws for Transformers]({ABS})" in embed(latest)["description"]
    assert "Clay County" not in embed_text(latest)
    scene(
        "lists",
        [
            shown(search, "member", "search"),
            shown(author, "member", "author"),
            shown(latest, "member", "latest"),
        ],
        "/search, /author, /latest",
    )
    double.assert_no_violations()


async def test_the_subscribe_button_follows_who_is_looking(running: Running) -> None:
    double = running.double

    def labels(message: JSON) -> list[Any]:
        return [c.get("label") for c in components(message)]

    mine = await answer(await double.invoke_slash("search", {"query": "learning", "limit": 2}))
    assert "Subscribe this channel" not in labels(mine)
    # A moderator opening another page of it gets a private copy with the button.
    copy = await answer(
        await double.click(mine, button(mine, "Next")["custom_id"], user=double.moderator)
    )
    assert is_ephemeral(copy) and "Subscribe this channel" in labels(copy)

    theirs = await answer(
        await double.invoke_slash(
            "search", {"query": "learning", "limit": 2}, user=double.moderator
        )
    )
    assert "Subscribe this channel" in labels(theirs)
    other = await answer(await double.click(theirs, button(theirs, "Next")["custom_id"]))
    assert is_ephemeral(other) and "Subscribe this channel" not in labels(other)
    scene(
        "search-subscribe",
        [
            shown(mine, "member", "search"),
            shown(copy, "moderator"),
            shown(theirs, "moderator", "search"),
        ],
        "Subscribe offered only to those who can",
    )
    double.assert_no_violations()


async def test_alert_cards_carry_link_buttons_and_an_open_control(running: Running) -> None:
    double = running.double
    alerts = double.alerts
    subscribed = await answer(
        await double.invoke_slash(
            "subscribe", {"query": "quasicrystal", "channel": alerts}, user=double.moderator
        )
    )
    assert "quasicrystal" in embed_text(subscribed)
    digests = running.workdir / "digests"
    one = (
        "Quasicrystal Diffraction, Linked\n\nOkafor, Ada\n\narXiv.org Condensed Matter\n\n"
        "We study quasicrystal diffraction at length, with a long enough abstract here.\n\n"
        "arXiv:2501.00042v1\n"
    )
    (digests / "arxiv-2025-02-01.txt").write_text(one, encoding="utf-8")
    reindexed = await answer(await double.invoke_slash("reindex", user=double.owner))
    assert "Reindex done" in reindexed["content"]
    [first] = await double.wait_for_messages(alerts.id, 1, timeout=15)
    card = embed(first)
    assert card["title"] == "Quasicrystal Diffraction, Linked"
    assert card["url"] == "https://arxiv.org/abs/2501.00042"
    labels = [c.get("label") for c in components(first)]
    assert labels == ["Abstract", "PDF", "Open", "Save", "👍", "👎"]
    opened = await answer(await double.click(first, button(first, "Open")["custom_id"]))
    assert is_ephemeral(opened)
    assert embed(opened)["title"] == "Quasicrystal Diffraction, Linked"
    assert "Cite" in [c.get("label") for c in components(opened)]

    two = "\n\n\n".join(
        f"Quasicrystal Paper {n}\n\nOkafor, Ada\n\narXiv.org Condensed Matter\n\n"
        f"Quasicrystal study number {n}, with an abstract long enough to be an abstract."
        + (f"\n\nhttps://example.org/q{n}" if n == 1 else "")
        for n in (1, 2)
    )
    (digests / "arxiv-2025-02-02.txt").write_text(two + "\n", encoding="utf-8")
    await answer(await double.invoke_slash("reindex", user=double.owner))
    messages = await double.wait_for_messages(alerts.id, 2, timeout=15)
    second = messages[1]
    assert [e["title"] for e in second["embeds"]] == [
        "1. Quasicrystal Paper 1",
        "2. Quasicrystal Paper 2",
    ]
    assert second["embeds"][0]["url"] == "https://example.org/q1"
    menu = select(second)
    assert [o["label"] for o in menu["options"]] == [
        "1. Quasicrystal Paper 1",
        "2. Quasicrystal Paper 2",
    ]
    buttons = [c for c in components(second) if c.get("type") == 2]
    assert [(b["label"], b["style"]) for b in buttons] == [
        ("1 · Abstract", 5),
        ("2 · Search arXiv for this title", 5),
    ]
    picked = await answer(
        await double.select(second, menu["custom_id"], [menu["options"][1]["value"]])
    )
    assert is_ephemeral(picked) and embed(picked)["title"] == "Quasicrystal Paper 2"
    scene(
        "alerts",
        [shown(first), shown(opened, "member"), shown(second)],
        "alert messages: one paper, two papers; Open",
    )
    double.assert_no_violations()


async def test_help_card(running: Running) -> None:
    double = running.double
    member = await answer(await double.invoke_slash("help"))
    moderator = await answer(await double.invoke_slash("help", user=double.moderator))
    assert "/subscribe " not in embed_text(member) and "/subscribe " in embed_text(moderator)
    scene(
        "help",
        [shown(member, "member", "help"), shown(moderator, "moderator", "help")],
        "/help for a member and for a moderator",
    )
    double.assert_no_violations()
