"""Charts as PNG bytes: a query's trend over the digests, and the papers of each digest.

matplotlib is imported when the first chart is drawn (a bot that draws none never loads
it), with the non-interactive Agg backend. Charts are drawn on a :class:`Figure` of their
own, never through pyplot's global figure registry, so drawing is safe in a worker thread
(callers run these functions with ``asyncio.to_thread``) and nothing outlives the call; the
figure is cleared once its PNG is written. The image is 800 x 400 pixels (tens of KB), far
under Discord's upload limit (:data:`bot.ui.limits.UPLOAD_BYTES`).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from datetime import timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from bot.core.trend import Trend, TrendPoint

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_PX, HEIGHT_PX, DPI = 800, 400, 100
TREND_FILE = "trend.png"
DIGESTS_FILE = "digests.png"
LINE = "#5865F2"  # the embeds' colour
BAR = "#99AAB5"
VENUE_LABEL = 22  # characters of a venue name shown on the chart


def _figure() -> Figure:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    try:
        fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        fig.clear()
    return out.getvalue()


def _series(ax: Axes, points: Sequence[TrendPoint], *, ylabel: str) -> None:
    """Counts over digest dates: a line with markers (bars when few dates)."""
    days = [p.day for p in points]
    counts = [p.count for p in points]
    if len(points) <= 20:
        ax.bar(days, counts, width=_bar_width(points), color=LINE)  # type: ignore[arg-type]
    else:
        ax.plot(days, counts, color=LINE, linewidth=1.5, marker="o", markersize=2.5)  # type: ignore[arg-type]
        ax.fill_between(days, counts, color=LINE, alpha=0.15)  # type: ignore[arg-type]
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    import matplotlib.dates as mdates

    if len(points) <= 20:
        # a tick at each digest date, and a day of room each side: a date locator would tick
        # hours under a single date and draw its bar across the whole axis
        step = -(-len(days) // 8)  # at most 8 labelled dates
        ax.set_xticks(days[::step])  # type: ignore[arg-type]
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]
        room = timedelta(days=max(1.0, _bar_width(points)))
        ax.set_xlim(days[0] - room, days[-1] + room)  # type: ignore[arg-type]
        if len(days[::step]) > 4:
            for label in ax.get_xticklabels():
                label.set_rotation(30)
                label.set_horizontalalignment("right")
        return
    locator = mdates.AutoDateLocator(maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _bar_width(points: Sequence[TrendPoint]) -> float:
    """Bars of 0.8 of the narrowest gap between dates (in days), at least half a day."""
    gaps = [(b.day - a.day).days for a, b in pairwise(points)]
    return max(0.5, 0.8 * min(gaps)) if gaps else 0.8


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_axis_off()


def render_trend(trend: Trend, title: str) -> bytes:
    """PNG: papers matching a query in each digest over time, and its top venues."""
    fig = _figure()
    widths = [3, 1.4] if trend.venues else [1]
    axes = fig.subplots(1, len(widths), width_ratios=widths, squeeze=False)[0]
    fig.suptitle(_clip(title, 90), fontsize=12)
    if trend.points:
        _series(axes[0], trend.points, ylabel="matching papers per digest date")
    else:
        _empty(axes[0], "no dated digest")
    if trend.venues:
        ax = axes[1]
        names = [
            textwrap.fill(v, VENUE_LABEL, max_lines=2, placeholder="…")
            for v, _ in reversed(trend.venues)
        ]
        counts = [n for _, n in reversed(trend.venues)]
        bars = ax.barh(range(len(names)), counts, color=BAR)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=8, padding=2)
        ax.set_title("top venues", fontsize=10)
        ax.set_xticks([])
        ax.spines[["top", "right", "bottom"]].set_visible(False)
        ax.margins(x=0.25)
    return _png(fig)


def render_digests(points: Sequence[TrendPoint], title: str) -> bytes:
    """PNG: papers in the digests of each date (the /stats chart)."""
    fig = _figure()
    ax = fig.subplots()
    ax.set_title(_clip(title, 90), fontsize=11)
    if points:
        _series(ax, points, ylabel="papers per digest date")
    else:
        _empty(ax, "no dated digest")
    return _png(fig)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
