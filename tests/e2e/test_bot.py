"""The real bot process, driven over loopback the way the Discord client drives it.

One bot and one double serve the whole module (see conftest.py); every test ends by
checking that nothing the bot sent broke a Discord rule.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from collections.abc import Callable

import pytest

from bot.core.digests import digest_date
from bot.ui.format import ZWSP
from tests.discord_double import InteractionHandle
from tests.e2e.conftest import COMMANDS, Running
from tests.e2e.fixtures import (
    COMPANION_AUTHOR,
    STRESS_AUTHORS,
    companion_titles,
    stress_abstract,
)
from tests.e2e.payloads import (
    answer,
    button,
    components,
    data,
    embed,
    embed_text,
    footer,
    is_ephemeral,
    paper_titled,
    seed_papers,
    select,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCALING = "Understanding Scaling Laws in Deep Neural Networks"
BARBIER = "Statistical physics of deep learning"
STRESS_ID_TITLE = "Hyperbolic"


async def test_commands_are_registered_once_with_valid_definitions(running: Running) -> None:
    double = running.double
    commands = {c["name"]: c for c in double.commands()}
    assert set(commands) >= COMMANDS  # plus the alerts and admin commands
    assert double.command_overwrites() == 1
    search = {o["name"]: o for o in commands["search"]["options"]}
    assert search["query"]["required"] is True and search["query"]["type"] == 3
    assert (search["limit"]["min_value"], search["limit"]["max_value"]) == (1, 10)
    paper_opts = {o["name"]: o for o in commands["paper"]["options"]}
    author_opts = {o["name"]: o for o in commands["author"]["options"]}
    assert paper_opts["paper"]["autocomplete"] is True
    assert author_opts["name"]["autocomplete"] is True
    double.assert_no_violations()


async def test_search_answers_with_ranked_cards_and_bold_matches(running: Running) -> None:
    double = running.double
    scaling = paper_titled(SCALING)
    handle = await double.invoke_slash("search", {"query": "scaling laws"})
    callback = await handle.response(timeout=3)
    assert callback["type"] == 4  # answered at once: no "thinking…" step
    body = data(callback)
    assert body["allowed_mentions"] == {"parse": []}
    assert not is_ephemeral(body)
    card = embed(body)
    first = card["fields"][0]
    assert first["name"] == "1."
    assert first["value"].startswith(f"**{scaling.title}**\n")  # no identifier: no link
    assert f"`{scaling.id}`" in first["value"]
    assert "Zihan Yao, Ruoyu Wu, Tianxiang Gao" in first["value"]
    assert "*arXiv.org Machine Learning*" in first["value"]
    assert re.search(r"\*\*scaling\*\* \*\*laws\*\*", first["value"], re.IGNORECASE)
    assert re.fullmatch(r"page 1/1 · \d+ results? · scaling laws", footer(body))
    menu = select(body)
    assert scaling.id in [o["value"] for o in menu["options"]]
    # A plain member cannot subscribe a channel: the button is not offered to them.
    assert "Subscribe this channel" not in [c.get("label") for c in components(body)]
    moderator = await double.invoke_slash(
        "search", {"query": "scaling laws"}, user=double.moderator
    )
    mod_body = data(await moderator.response(timeout=3))
    assert button(mod_body, "Subscribe this channel")["custom_id"] == "ds:sub:=scaling laws"
    double.assert_no_violations()


async def test_short_author_list_counts_the_rest(running: Running) -> None:
    double = running.double
    superchem = paper_titled("SUPERChem")
    handle = await double.invoke_slash("search", {"query": "SUPERChem benchmark"})
    body = data(await handle.response(timeout=3))
    value = embed(body)["fields"][0]["value"]
    assert f"Zehua Zhao, Zhixian Huang, Junren Li +{len(superchem.authors) - 3}" in value
    # A matched word inside a link is not bolded (that would break the link).
    assert "https://huggingface.co/datasets/ZehuaZhao/SUPERChem" in value
    double.assert_no_violations()


async def test_paging_with_next_and_prev_and_other_users_get_a_private_copy(
    running: Running,
) -> None:
    double = running.double
    handle = await double.invoke_slash("search", {"query": "learning", "limit": 2})
    first = await handle.wait_for_message(timeout=3)
    match = re.fullmatch(r"page 1/(\d+) · (\d+) results · learning", footer(first))
    assert match is not None, footer(first)
    pages, total = int(match[1]), int(match[2])
    assert pages == -(-total // 2) and pages >= 2
    assert button(first, "Prev")["disabled"] is True
    first_ids = [o["value"] for o in select(first)["options"]]

    nxt = await double.click(first, button(first, "Next")["custom_id"])
    callback = await nxt.response(timeout=3)
    assert callback["type"] == 7  # the invoker's click edits the message in place
    page2 = double.message(int(first["id"]))
    assert page2 is not None
    assert footer(page2).startswith(f"page 2/{pages} · ")
    assert embed(page2)["fields"][0]["name"] == "3."
    page2_ids = [o["value"] for o in select(page2)["options"]]
    assert not set(page2_ids) & set(first_ids)

    back = await double.click(page2, button(page2, "Prev")["custom_id"])
    assert (await back.response(timeout=3))["type"] == 7
    again = double.message(int(first["id"]))
    assert again is not None and footer(again).startswith(f"page 1/{pages} · ")

    # Someone else clicking Next gets page 2 privately; the shared message stays on page 1.
    other = await double.click(again, button(again, "Next")["custom_id"], user=double.moderator)
    private = await other.wait_for_message(timeout=3)
    assert is_ephemeral(private) and footer(private).startswith(f"page 2/{pages} · ")
    still = double.message(int(first["id"]))
    assert still is not None and footer(still).startswith(f"page 1/{pages} · ")
    double.assert_no_violations()


async def test_select_menu_opens_the_paper_card_privately(running: Running) -> None:
    double = running.double
    barbier = paper_titled(BARBIER)
    handle = await double.invoke_slash("search", {"query": "perceptron interpolation"})
    message = await handle.wait_for_message(timeout=3)
    menu = select(message)
    opened = await double.select(message, menu["custom_id"], [barbier.id])
    card_message = await opened.wait_for_message(timeout=3)
    assert is_ephemeral(card_message)
    card = embed(card_message)
    assert card["title"] == barbier.title
    fields = {f["name"]: f["value"] for f in card["fields"]}
    assert fields["Id"] == f"`{barbier.id}`"
    double.assert_no_violations()


async def test_paper_card_by_id_and_by_title(running: Running) -> None:
    double = running.double
    scaling = paper_titled(SCALING)
    by_id = await double.invoke_slash("paper", {"paper": scaling.id.upper()})
    body = data(await by_id.response(timeout=3))
    card = embed(body)
    assert card["title"] == scaling.title
    fields = {f["name"]: f["value"] for f in card["fields"]}
    assert fields["Id"] == f"`{scaling.id}`"
    assert fields["Authors (3)"] == "Zihan Yao, Ruoyu Wu, Tianxiang Gao"
    assert fields["Venue"] == "*arXiv.org Machine Learning*"
    assert re.fullmatch(r"<t:\d+:D>", fields["First seen"])
    # A digest is named by its date and file name, never by its page chrome.
    assert "Clay County" not in embed_text(body)
    assert re.match(r"\d{4}-\d\d-\d\d · 000\\_3fb66f32c462d8d6\.txt · ", fields["In 1 digest"])
    assert "Similar papers" in fields
    # Who and where come first: the abstract is a field after them, cut, not the description
    # (which Discord draws above every field).
    names = [f["name"] for f in card["fields"]]
    assert not card.get("description")
    assert names.index("Abstract") > names.index("In 1 digest") > names.index("Authors (3)")
    assert fields["Abstract"].startswith("The empirical success of deep learning")
    assert fields["Abstract"].endswith("…") and len(fields["Abstract"]) <= 800
    assert button(body, "Full abstract")["custom_id"] == f"ds:full:{scaling.id}"
    assert button(body, "Cite")["custom_id"] == f"ds:cite:{scaling.id}"
    assert not is_ephemeral(body)

    by_title = await double.invoke_slash("paper", {"paper": "statistical physics of deep lerning"})
    card2 = embed(data(await by_title.response(timeout=3)))
    assert card2["title"] == paper_titled(BARBIER).title
    double.assert_no_violations()


async def test_paper_and_author_autocomplete(running: Running) -> None:
    double = running.double
    scaling = paper_titled(SCALING)
    handle = await double.autocomplete("paper", {"paper": "scal"}, focused="paper")
    choices = await handle.choices(timeout=3)
    assert 1 <= len(choices) <= 25
    assert scaling.id in [c["value"] for c in choices]
    assert all(1 <= len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)

    by_id = await double.autocomplete("paper", {"paper": scaling.id[:4]}, focused="paper")
    assert scaling.id in [c["value"] for c in await by_id.choices(timeout=3)]

    empty = await double.autocomplete("paper", {"paper": ""}, focused="paper")
    assert len(await empty.choices(timeout=3)) <= 25

    people = await double.autocomplete("author", {"name": "barb"}, focused="name")
    names = await people.choices(timeout=3)
    assert "Jean Barbier" in [c["value"] for c in names]
    assert len(names) <= 25

    nothing = await double.autocomplete("author", {"name": "zzzzqqqq"}, focused="name")
    assert await nothing.choices(timeout=3) == []
    double.assert_no_violations()


async def test_author_card_with_coauthors_venues_and_paging(running: Running) -> None:
    double = running.double
    handle = await double.invoke_slash("author", {"name": "barbier jean"})
    body = data(await handle.response(timeout=3))
    card = embed(body)
    assert card["title"] == "Jean Barbier"
    fields = {f["name"]: f["value"] for f in card["fields"]}
    assert "Francesco Camilli (1)" in fields["Frequent co-authors"]
    assert "arXiv.org Machine Learning (1)" in fields["Venues"]
    assert paper_titled(BARBIER).id in card["description"]

    plain = await double.invoke_slash("author", {"name": COMPANION_AUTHOR})
    first = await plain.wait_for_message(timeout=3)
    assert footer(first) == "page 1/2 · 8 papers"
    nxt = await double.click(first, button(first, "Next")["custom_id"])
    assert (await nxt.response(timeout=3))["type"] == 7
    page2 = double.message(int(first["id"]))
    assert page2 is not None and footer(page2) == "page 2/2 · 8 papers"
    titles = companion_titles()
    shown = embed_text(page2)
    assert sum(t in shown for t in titles) == 3
    double.assert_no_violations()


async def test_latest_digest_is_paged(running: Running) -> None:
    double = running.double
    handle = await double.invoke_slash("latest")
    first = await handle.wait_for_message(timeout=3)
    card = embed(first)
    stress = running.workdir / "digests" / "zz_stress.txt"
    day = digest_date(stress.name, stress.stat().st_mtime).isoformat()
    # Markdown-escaped like all digest text ("zz\_stress.txt" shows as "zz_stress.txt")
    assert card["title"] == f"Latest digest: {day} · zz\\_stress.txt"  # not "Stress County"
    assert re.fullmatch(r"page 1/2 · 9 papers · indexed \d{4}-\d\d-\d\d", footer(first))
    nxt = await double.click(first, button(first, "Next")["custom_id"])
    await nxt.response(timeout=3)
    page2 = double.message(int(first["id"]))
    assert page2 is not None and footer(page2).startswith("page 2/2 · ")
    assert companion_titles()[-1] in embed(page2)["description"]
    double.assert_no_violations()


async def test_stats_and_help(running: Running) -> None:
    double = running.double
    card = embed(await answer(await double.invoke_slash("stats")))  # the chart may defer it
    fields = {f["name"]: f["value"] for f in card["fields"]}
    assert fields["Papers"] == str(len(seed_papers()) + 9)
    assert fields["Digests"] == "2"
    assert re.search(r"<t:\d+:f>", fields["Last indexed"])

    help_ = await double.invoke_slash("help")
    body = data(await help_.response(timeout=3))
    assert is_ephemeral(body)
    text = embed_text(body)
    for needle in (
        "/search",
        "/paper",
        "/author",
        "/latest",
        "/stats",
        "/subscriptions",
        "/help",
        "author:",
        "venue:",
        '"feature learning"',
        "-chemistry",
    ):
        assert needle in text
    for hidden in ("/subscribe ", "/unsubscribe", "/reindex"):
        assert hidden not in text  # a plain member cannot use them

    moderator = await double.invoke_slash("help", user=double.moderator)
    mod_text = embed_text(data(await moderator.response(timeout=3)))
    assert "/subscribe " in mod_text and "/unsubscribe" in mod_text
    assert "/reindex" not in mod_text
    owner = await double.invoke_slash("help", user=double.owner)
    assert "/reindex" in embed_text(data(await owner.response(timeout=3)))
    double.assert_no_violations()


@pytest.mark.parametrize(
    ("command", "options", "expected"),
    [
        ("search", {"query": "   "}, "Type what to search for"),
        ("search", {"query": "deep " * 70}, "the limit is 300"),
        ("search", {"query": '"feature learning'}, "quote"),
        ("search", {"query": "the of and"}, "I can't read that query"),
        ("search", {"query": "xylophone zeppelin"}, "No papers match"),
        ("search", {"query": "scalng lawz"}, "Did you mean `scaling laws`"),
        ("search", {"query": "title:scaling"}, "There is no title: field"),
        ("search", {"query": "scaling OR laws"}, "OR is not supported"),
        ("search", {"query": "-chemistry"}, "only excludes"),
        ("paper", {"paper": "zzzzzzzz"}, "No paper has the id or title"),
        ("paper", {"paper": "x" * 301}, "at most 300"),
        ("author", {"name": "Qwxz Plorfington"}, "No author matches"),
    ],
)
async def test_bad_input_gets_a_private_explanation(
    running: Running, command: str, options: dict[str, str], expected: str
) -> None:
    double = running.double
    handle = await double.invoke_slash(command, options)
    callback = await handle.response(timeout=3)
    assert callback["type"] == 4
    body = data(callback)
    assert is_ephemeral(body), body
    assert expected in (body.get("content") or ""), body
    assert body["allowed_mentions"] == {"parse": []}
    double.assert_no_violations()


async def test_did_you_mean_offers_a_button_that_runs_the_corrected_search(
    running: Running,
) -> None:
    double = running.double
    handle = await double.invoke_slash("search", {"query": "scalng lawz", "limit": 1})
    body = data(await handle.response(timeout=3))
    assert is_ephemeral(body) and "Did you mean `scaling laws`" in body["content"], body
    retry = button(body, "scaling laws")
    assert retry["custom_id"].startswith("ds:retry:")
    message = await handle.wait_for_message(timeout=3)
    click = await double.click(message, retry["custom_id"])
    results = await click.wait_for_message(timeout=3)
    assert not is_ephemeral(results)  # the search everyone would have seen
    assert footer(results).endswith(" · scaling laws"), footer(results)
    assert SCALING in embed_text(results)
    # the results page like any /search: its Next button pages the corrected query
    nxt = await double.click(results, button(results, "Next")["custom_id"])
    assert (await nxt.response(timeout=3))["type"] == 7
    double.assert_no_violations()


async def test_stress_paper_stays_within_every_limit_and_pings_nobody(running: Running) -> None:
    double = running.double
    search = await double.invoke_slash("search", {"query": "hyperbolic stress", "limit": 10})
    body = data(await search.response(timeout=3))
    first = embed(body)["fields"][0]
    assert "@everyone" not in embed_text(body)
    assert f"@{ZWSP}everyone" in first["value"]
    assert "\\*\\*Stress\\*\\*" in first["value"]
    assert "<@123456789012345678>" not in embed_text(body)
    assert "Zyxwvut00, Quintessa01 Zyxwvut01, Quintessa02 Zyxwvut02 +57" in first["value"]
    stress_id = select(body)["options"][0]["value"]

    paper = await double.invoke_slash("paper", {"paper": stress_id})
    pbody = data(await paper.response(timeout=3))
    assert pbody["allowed_mentions"] == {"parse": []}
    card = embed(pbody)
    assert "@everyone" not in embed_text(pbody)
    assert len(card["title"]) <= 256
    fields = {f["name"]: f["value"] for f in card["fields"]}
    assert fields["Abstract"].endswith("…")
    assert len(fields["Abstract"]) < len(stress_abstract())
    authors = fields[f"Authors ({len(STRESS_AUTHORS)})"]
    assert len(authors) <= 1024 and authors.endswith("more")
    assert fields["Venue"] == "*Journal of \\*Pathological\\* Inputs*"
    total = (
        sum(len(card.get(k) or "") for k in ("title", "description"))
        + sum(len(f["name"]) + len(f["value"]) for f in card["fields"])
        + len(footer(pbody))
    )
    assert total <= 6000

    latest = await double.invoke_slash("latest")
    lbody = data(await latest.response(timeout=3))
    assert "@everyone" not in embed_text(lbody)
    labels = [o["label"] for o in select(lbody)["options"]]
    assert all(len(label) <= 100 for label in labels)
    double.assert_no_violations()


async def test_short_mentions_and_invisible_characters_stay_inert(running: Running) -> None:
    """The stress title holds ``<@&999> <#12>`` and ``Zero<ZWSP>Width <RLO>Title``."""
    double = running.double
    search = await double.invoke_slash("search", {"query": "zerowidth", "limit": 1})
    body = data(await search.response(timeout=3))
    first = embed(body)["fields"][0]
    assert "Hyperbolic" in first["name"] + first["value"]  # found by the word it shows
    stress_id = select(body)["options"][0]["value"]
    paper = await double.invoke_slash("paper", {"paper": stress_id})
    pbody = data(await paper.response(timeout=3))
    title = embed(pbody)["title"]
    assert f"<{ZWSP}@&999> <{ZWSP}#12>" in title and title.endswith("ZeroWidth Title")
    for message in (body, pbody):
        text = embed_text(message)
        assert "<@&999>" not in text and "<#12>" not in text
        assert "\u202e" not in text and "Zero\u200bWidth" not in text
        labels = [o["label"] for o in select(message)["options"]] if components(message) else []
        assert all("\u200b" not in label and "\u202e" not in label for label in labels)
    double.assert_no_violations()


async def test_twenty_interactions_in_flight_are_all_answered_quickly(running: Running) -> None:
    double = running.double
    queries = ["scaling laws", "feature learning", "chemistry", "hyperbolic", "learning"]
    handles = await asyncio.gather(
        *(double.invoke_slash("search", {"query": queries[i % len(queries)]}) for i in range(20))
    )
    callbacks = await asyncio.gather(*(h.response(timeout=3) for h in handles))
    # The first ones are answered directly; once the bot is busy it acknowledges first
    # ("thinking…") and the answer replaces the placeholder.
    kinds = [c["type"] for c in callbacks]
    assert set(kinds) <= {4, 5} and 4 in kinds
    messages = await asyncio.gather(*(h.wait_for_message(timeout=5) for h in handles))
    for message in messages:
        assert not is_ephemeral(message)
        assert embed(message)["title"].startswith("Search: ") and components(message)
    latencies = [h.latency for h in handles if h.latency is not None]
    assert len(latencies) == 20
    assert statistics.median(latencies) < 1.0 and max(latencies) < 2.5
    double.assert_no_violations()


def _deleted(handle: InteractionHandle) -> Callable[[], bool]:
    return lambda: handle.original_deleted


async def test_errors_stay_private_even_when_the_answer_was_deferred(running: Running) -> None:
    double = running.double
    handles = await asyncio.gather(
        *(double.invoke_slash("search", {"query": f"xylophone{i} zeppelin"}) for i in range(12))
    )
    await asyncio.gather(*(h.response(timeout=3) for h in handles))
    deferred = [h for h in handles if h.callback_type == 5]
    direct = [h for h in handles if h.callback_type == 4]
    assert len(deferred) + len(direct) == 12
    for h in direct:
        assert h.message is not None and is_ephemeral(h.message)
        assert "No papers match" in h.message["content"]
    for h in deferred:
        # The public "thinking…" placeholder is resolved, the error sent privately, and the
        # placeholder deleted: nothing public remains.
        await double.wait_until(_deleted(h), 5, "the placeholder deleted")
        private = [m for m in h.followups if is_ephemeral(m)]
        assert private and "No papers match" in private[0]["content"]
    double.assert_no_violations()
