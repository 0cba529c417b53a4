"""Buttons and select menus: persistent views whose whole state is in their custom_ids.

These builders make discord.py objects (buttons, menus, views); they do no I/O.

Every component the bot sends -- paging, Open, Cite, Full abstract, the "Open a paper" menus
and "Subscribe this channel" -- is wrapped in :class:`ActionItem`, a ``DynamicItem`` whose
template matches every custom_id of the one grammar (:mod:`bot.ui.actions`, old ids
included). The bot registers the class once (``bot.add_dynamic_items(ActionItem)``), so a
click is routed even after a restart and without keeping a view object per message in
memory. The click is handed to the client's ``route_action`` (see :class:`ActionRouter`),
which parses the custom_id, calls the handler registered for its kind, and answers "this
result expired" when it cannot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import discord

from bot.ui import actions
from bot.ui.actions import (
    OpenAction,
    PageAction,
    PageKind,
    PaperAction,
    PaperKind,
    RetryAction,
    SubscribeAction,
)
from bot.ui.limits import (
    BUTTON_LABEL,
    OPTION_DESCRIPTION,
    OPTION_LABEL,
    SELECT_OPTIONS,
    SELECT_PLACEHOLDER,
    clamp,
    clamp_nonempty,
)


@runtime_checkable
class ActionRouter(Protocol):
    async def route_action(
        self, interaction: discord.Interaction[Any], custom_id: str, values: list[str]
    ) -> None: ...


@runtime_checkable
class ComponentGate(Protocol):
    async def admit_component(self, interaction: discord.Interaction[Any]) -> bool: ...


async def admit(interaction: discord.Interaction[Any]) -> bool:
    """Every component's ``interaction_check``: the client's one gate (clock, cooldown),
    which answers a refused click itself."""
    client = interaction.client
    return await client.admit_component(interaction) if isinstance(client, ComponentGate) else True


class ActionItem(
    discord.ui.DynamicItem[discord.ui.Item[Any]],
    template=actions.TEMPLATE,
):
    """Any button or select of ours; the client routes it by its parsed custom_id."""

    def __init__(self, item: discord.ui.Item[Any]) -> None:
        super().__init__(item)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionItem:
        # Never raise here: discord.py would drop the click and Discord show a failure.
        return cls(item)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return await admit(interaction)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        values = list(getattr(self.item, "values", []) or [])
        client = interaction.client
        if isinstance(client, ActionRouter):
            await client.route_action(interaction, self.custom_id, values)
        else:  # pragma: no cover - only a foreign client would get here
            await interaction.response.send_message(
                "This result expired — run the command again.", ephemeral=True
            )


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of an "open a paper" select menu."""

    value: str  # the paper id
    label: str
    description: str = ""


SUBSCRIBE_LABEL = "Subscribe this channel"


def _button(
    label: str,
    action: actions.Action,
    *,
    disabled: bool = False,
    row: int | None,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
) -> ActionItem:
    button: discord.ui.Button[Any] = discord.ui.Button(
        label=label,
        custom_id=actions.custom_id(action),
        style=style,
        disabled=disabled,
        row=row,
    )
    return ActionItem(button)


def action_button(label: str, kind: PaperKind, paper_id: str, *, row: int) -> ActionItem:
    """A persistent button acting on one paper (``Cite``, ``Full abstract``, ``Open``)."""
    return _button(label, PaperAction(kind, paper_id), row=row)


def subscribe_button(ref: str, *, row: int | None = None) -> ActionItem:
    """ "Subscribe this channel" under search results: the search ``ref`` as a topic alert.

    Its custom_id is shorter than the search's own page buttons', so it always fits."""
    return _button(
        SUBSCRIBE_LABEL, SubscribeAction(ref), row=row, style=discord.ButtonStyle.success
    )


def retry_button(query: str, per: int, ref: str) -> ActionItem:
    """ "Search: <query>" under a "did you mean": runs the corrected search ``ref``."""
    label = clamp_nonempty(f"Search: {query}", BUTTON_LABEL)
    return _button(label, RetryAction(per, ref), row=0, style=discord.ButtonStyle.primary)


def open_select(
    source: str, choices: Sequence[Choice], placeholder: str = "Open a paper…", row: int = 0
) -> ActionItem | None:
    """A select menu that opens the chosen paper's card (``None`` without choices)."""
    options: list[discord.SelectOption] = []
    seen: set[str] = set()
    for choice in choices:
        if choice.value in seen or len(options) == SELECT_OPTIONS:
            continue
        seen.add(choice.value)
        options.append(
            discord.SelectOption(
                label=clamp_nonempty(choice.label, OPTION_LABEL),
                value=choice.value,
                description=clamp(choice.description, OPTION_DESCRIPTION) or None,
            )
        )
    if not options:
        return None
    select: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=actions.custom_id(OpenAction(source)),
        placeholder=clamp(placeholder, SELECT_PLACEHOLDER),
        options=options,
        min_values=1,
        max_values=1,
        row=row,
    )
    return ActionItem(select)


def pager_buttons(
    kind: PageKind, page: int, pages: int, per: int, ref: str, row: int = 1
) -> list[ActionItem]:
    """Prev / Next for a card with ``pages`` pages (none for a single page).

    Each button's custom_id names the page it shows, so the two never share an id.
    """
    if pages <= 1:
        return []
    prev_page = max(page - 1, 0)
    next_page = min(page + 1, pages - 1)
    return [
        _button("◀ Prev", PageAction(kind, prev_page, per, ref), disabled=page <= 0, row=row),
        _button(
            "Next ▶", PageAction(kind, next_page, per, ref), disabled=page >= pages - 1, row=row
        ),
    ]


def paged_view(
    kind: PageKind,
    *,
    page: int,
    pages: int,
    per: int,
    ref: str,
    choices: Sequence[Choice] = (),
    extra: Sequence[discord.ui.Item[Any]] = (),
) -> discord.ui.View | None:
    """A persistent view: a select opening one of this page's papers, then Prev / Next
    and any ``extra`` persistent items (on the buttons' row)."""
    items: list[discord.ui.Item[Any]] = []
    select = open_select(kind, choices)
    if select is not None:
        items.append(select)
    items.extend(pager_buttons(kind, page, pages, per, ref))
    items.extend(extra)
    return view_of(items)


def view_of(items: Sequence[discord.ui.Item[Any]]) -> discord.ui.View | None:
    """A ``timeout=None`` view holding ``items`` (``None`` when there are none).

    Every item must be persistent (a ``DynamicItem``) so the view needs no memory per message.
    """
    if not items:
        return None
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view
