"""Reading what the bot sent: embeds, components, flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core.models import Paper
from bot.core.parser import parse_digest
from tests.e2e.harness import SEEDS

JSON = dict[str, Any]
EPHEMERAL = 1 << 6


def seed_papers() -> list[Paper]:
    papers: list[Paper] = []
    for path in sorted(SEEDS.glob("*.txt")):
        papers.extend(parse_digest(path.read_bytes(), Path(path).name).papers)
    return papers


def paper_titled(prefix: str) -> Paper:
    return next(p for p in seed_papers() if p.title.startswith(prefix))


def data(callback: JSON) -> JSON:
    out = callback.get("data")
    assert isinstance(out, dict), f"callback without data: {callback!r}"
    return out


def is_ephemeral(message: JSON) -> bool:
    return bool(int(message.get("flags") or 0) & EPHEMERAL)


def embed(message: JSON, index: int = 0) -> JSON:
    embeds = message.get("embeds") or []
    assert len(embeds) > index, f"expected an embed, got {message!r}"
    out = embeds[index]
    assert isinstance(out, dict)
    return out


def embed_text(message: JSON) -> str:
    """Every visible text of every embed, joined (for "contains" checks)."""
    parts: list[str] = [str(message.get("content") or "")]
    for e in message.get("embeds") or []:
        parts += [e.get("title") or "", e.get("description") or ""]
        for f in e.get("fields") or []:
            parts += [f.get("name") or "", f.get("value") or ""]
        parts.append((e.get("footer") or {}).get("text") or "")
        parts.append((e.get("author") or {}).get("name") or "")
    return "\n".join(parts)


def components(message: JSON) -> list[JSON]:
    return [c for row in message.get("components") or [] for c in row.get("components") or []]


def button(message: JSON, label_part: str) -> JSON:
    for c in components(message):
        if c.get("type") == 2 and label_part in (c.get("label") or ""):
            return c
    raise AssertionError(f"no button {label_part!r} in {components(message)!r}")


def select(message: JSON) -> JSON:
    for c in components(message):
        if c.get("type") == 3:
            return c
    raise AssertionError(f"no select menu in {components(message)!r}")


def footer(message: JSON) -> str:
    return str((embed(message).get("footer") or {}).get("text") or "")


async def answer(handle: Any) -> JSON:
    """An interaction's answer, also when the bot deferred first (a slow part, such as a
    chart drawn on a loaded machine, makes it defer: both are right)."""
    await handle.response(timeout=5)
    message: JSON = await handle.wait_for_message(timeout=10)
    return message
