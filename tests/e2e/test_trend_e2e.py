"""/trend and /stats' chart end to end: the real bot process, real discord.py, real
matplotlib, the Discord API double. The answers carry a PNG attachment (shown in the embed
via ``attachment://``) that decodes as an image of the expected size and fits Discord's
upload limit; a query that cannot be read is answered privately."""

from __future__ import annotations

import struct
from pathlib import Path

from bot.ui.limits import UPLOAD_BYTES
from tests.discord_double import DiscordDouble, RecordedRequest
from tests.e2e.harness import copy_seeds
from tests.e2e.payloads import answer, embed_text, is_ephemeral
from tests.e2e.test_alerts_e2e import start_bot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk (which must come first)."""
    assert data[:8] == PNG_SIGNATURE, data[:16]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def upload(double: DiscordDouble, filename: str) -> tuple[RecordedRequest, bytes]:
    found = [(r, f.data) for r in double.requests for f in r.files if f.filename == filename]
    assert found, f"no upload of {filename}"
    return found[-1]


async def test_trend_and_stats_charts(tmp_path: Path) -> None:
    digests = copy_seeds(tmp_path / "digests")
    double = DiscordDouble()
    async with double:
        bot = await start_bot(double, tmp_path, digests, identify=1)
        try:
            await double.wait_for_commands(names={"trend", "stats"}, timeout=10)
            body = await answer(await double.invoke_slash("trend", {"query": "learning"}))
            assert not is_ephemeral(body), body
            [embed] = body["embeds"]
            assert embed["image"]["url"] == "attachment://trend.png"
            assert "match “learning”" in embed_text(body), body
            [attachment] = body["attachments"]
            assert attachment["filename"] == "trend.png"
            assert attachment["description"].startswith(embed["description"][:20])
            _, data = upload(double, "trend.png")
            assert png_size(data) == (800, 400)
            assert len(data) <= UPLOAD_BYTES and attachment["size"] == len(data)

            body = await answer(await double.invoke_slash("stats"))
            [embed] = body["embeds"]
            assert embed["image"]["url"] == "attachment://digests.png"
            _, data = upload(double, "digests.png")
            assert png_size(data) == (800, 400) and len(data) <= UPLOAD_BYTES

            bad = await answer(await double.invoke_slash("trend", {"query": '"unclosed'}))
            assert is_ephemeral(bad) and "query" in bad["content"], bad
            none = await answer(await double.invoke_slash("trend", {"query": "zzyzxqwv"}))
            assert is_ephemeral(none) and "nothing to chart" in none["content"], none
            double.assert_no_violations()
        finally:
            code = await bot.stop()
        assert code == 0, bot.log_text()[-3000:]
        assert "Traceback" not in bot.log_text(), bot.log_text()[-4000:]
