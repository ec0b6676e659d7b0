"""The weekly chart as a picture: requests per Jalali week by house, and the in-time share.

`weekly_spec()` turns the figures into words and numbers in the reader's language (Jalali
week labels, Persian digits); `render()` draws it off the event loop, in a short-lived
process (`python -m bot.ui.charts`: JSON in, PNG out), so matplotlib never sits in the bot's
memory nor holds its GIL. Drawing uses the Agg backend (no display) and the bundled
Vazirmatn font (OFL, `bot/ui/fonts/OFL.txt`). Persian must be shaped (joined letter forms)
and laid out right to left: matplotlib 3.11 does both itself (libraqm); with a matplotlib
that does not, the labels are shaped by arabic-reshaper and put in visual order by
python-bidi first (`_shape`), so the picture is right either way.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import jdatetime  # type: ignore[import-untyped, unused-ignore]

from bot.domain.reports import WeekSeries
from bot.i18n import Translator, localized
from bot.ui.jalali import MONTHS

WIDTH_PX, HEIGHT_PX, DPI = 900, 1200, 150        # a phone screen, portrait
COLOURS = ("#2e7d32", "#c62828", "#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#8d6e63")
FONT_FILES = {"regular": "Vazirmatn-Regular.ttf", "bold": "Vazirmatn-Bold.ttf"}


def week_label(tr: Translator, saturday: date) -> str:
    """«۲۲ آبان»: the Jalali day and month the week starts on (a Saturday)."""
    j = jdatetime.date.fromgregorian(date=saturday)
    return tr.digits(f"{int(j.day)} {tr._(MONTHS[int(j.month) - 1])}")


def weekly_spec(tr: Translator, series: WeekSeries, scope: str = "") -> dict[str, Any]:
    """Everything the picture says, already in the reader's language (JSON-safe)."""
    total = sum(sum(v) for v in series.counts.values())
    title = tr._("Requests per week (Saturday to Friday), last {n} weeks").format(
        n=tr.digits(len(series.weeks)))
    return {
        "rtl": tr.rtl,
        "title": title + (f" · {scope}" if scope else ""),
        "weeks": [week_label(tr, w) for w in series.weeks],
        "series": [{"label": localized(tr, series.houses[code].name_fa,
                                       series.houses[code].name_en), "values": values}
                   for code, values in series.counts.items()],
        "in_time": [None if v is None else round(v * 100, 1) for v in series.in_time],
        "count_axis": tr._("requests filed"),
        "share_title": tr._("Answered within the window, by filing week"),
        "share_axis": tr._("percent"),
        "empty": tr._("No requests in these weeks.") if total == 0 else "",
        "digits": "fa" if tr.rtl else "en",
    }


# --------------------------------------------------------------------------- drawing

def _font_path(kind: str) -> str:
    return str(resources.files("bot.ui").joinpath("fonts", FONT_FILES[kind]))


def native_shaping() -> bool:
    """True when matplotlib shapes and orders right-to-left text itself (libraqm)."""
    from matplotlib import ft2font

    return hasattr(ft2font.FT2Font, "_layout")


def _shape(text: str, rtl: bool) -> str:
    """Joined letter forms in visual order, for a renderer that knows neither."""
    if not rtl or not text:
        return text
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(text)))


def _digits(value: float, kind: str) -> str:
    text = f"{value:g}"
    return text.translate(str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")) if kind == "fa" else text


def render_png(spec: dict[str, Any]) -> bytes:
    """Draw the chart described by `spec` (see `weekly_spec`) and return the PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    regular = font_manager.FontProperties(fname=_font_path("regular"))
    bold = font_manager.FontProperties(fname=_font_path("bold"))
    rtl, kind = bool(spec["rtl"]), str(spec["digits"])
    native = native_shaping()

    def s(text: str) -> str:
        return text if native else _shape(text, rtl)

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    top, bottom = fig.subplots(2, 1, height_ratios=(3, 2))
    weeks = list(range(len(spec["weeks"])))
    base = [0] * len(weeks)
    for i, item in enumerate(spec["series"]):
        top.bar(weeks, item["values"], bottom=base, color=COLOURS[i % len(COLOURS)],
                label=s(item["label"]), width=0.75)
        base = [b + v for b, v in zip(base, item["values"], strict=True)]
    fig.suptitle(s(spec["title"]), fontproperties=bold, fontsize=10, wrap=True)
    top.set_ylabel(s(spec["count_axis"]), fontproperties=regular, fontsize=8)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    if spec["series"]:
        handles, labels = top.get_legend_handles_labels()
        if rtl:                          # the first house on the right, where reading starts
            handles, labels = handles[::-1], labels[::-1]
        top.legend(handles, labels, prop=_sized(regular, 7), loc="lower center",
                   bbox_to_anchor=(0.5, 1.0),
                   frameon=False, ncols=min(4, len(spec["series"])), markerfirst=not rtl)
    if spec["empty"]:
        top.text(0.5, 0.5, s(spec["empty"]), transform=top.transAxes, ha="center",
                 fontproperties=regular, fontsize=9, color="#666666")
    shares = [(w, v) for w, v in zip(weeks, spec["in_time"], strict=True) if v is not None]
    if shares:
        bottom.plot([w for w, _ in shares], [v for _, v in shares], marker="o",
                    color="#37474f", linewidth=1.5, markersize=3)
    bottom.set_ylim(0, 105)
    bottom.set_title(s(spec["share_title"]), fontproperties=regular, fontsize=9)
    bottom.set_ylabel(s(spec["share_axis"]), fontproperties=regular, fontsize=8)
    formatter = FuncFormatter(lambda v, _pos: _digits(v, kind))
    for ax in (top, bottom):
        ax.set_xlim(-0.6, len(weeks) - 0.4)
        ax.set_xticks(weeks, [s(w) for w in spec["weeks"]], rotation=60, fontsize=7,
                      fontproperties=regular)
        ax.yaxis.set_major_formatter(formatter)
        for label in ax.get_yticklabels():
            label.set_fontproperties(_sized(regular, 7))
        ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _sized(prop: Any, size: float) -> Any:
    copy = prop.copy()
    copy.set_size(size)
    return copy


# --------------------------------------------------------------------------- off the loop

_CODE_ROOT = str(Path(__file__).resolve().parents[2])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_CODE_ROOT, env.get("PYTHONPATH")) if p)
    env["MPLBACKEND"] = "Agg"
    return env


async def render(spec: dict[str, Any], timeout: float = 60.0) -> bytes:
    """`render_png` in a short-lived process of its own (no matplotlib in the bot)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.ui.charts", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env())
    try:
        png, errors = await asyncio.wait_for(proc.communicate(json.dumps(spec).encode()),
                                             timeout)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0 or not png.startswith(b"\x89PNG"):
        raise RuntimeError("chart renderer failed: " + errors.decode(errors="replace")[-1000:])
    return png


def lower_priority() -> None:
    """For a worker process (chart, export): the bot's own work comes first. Nice 10 and one
    CPU of several, so the bot's threads keep the others. (Not SCHED_IDLE: on a busy shared
    machine that starves the worker outright.)"""
    for step in (lambda: os.nice(10), _one_cpu):
        try:
            step()
        except (OSError, AttributeError):       # not Linux, or not allowed: fine
            pass


def _one_cpu() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[-1]})


def main() -> None:
    lower_priority()
    spec = json.loads(sys.stdin.read())
    sys.stdout.buffer.write(render_png(spec))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
