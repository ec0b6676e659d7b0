"""The receipt a filer hands over after a field visit: a phone-sized PNG per request (Persian
shaped right-to-left, Persian digits, the Jalali due moment, a QR code of the bot link that
claims it) and all receipts of a visit as one multi-page PDF for printing.

Persian is shaped with arabic-reshaper and python-bidi and drawn with Vazirmatn (SIL Open
Font License, `bot/ui/fonts/OFL.txt`), so the picture looks the same wherever it is made.
"""

from __future__ import annotations

import io
import unicodedata
from functools import cache
from pathlib import Path

import arabic_reshaper
import segno
from bidi import get_display
from PIL import Image, ImageDraw, ImageFont

from bot.domain.visits import CLAIM_PREFIX, masked
from bot.i18n import Translator
from bot.services.visits import Receipt
from bot.ui.jalali import TEHRAN, format_datetime, format_weekday
from bot.ui.labels import kind_label, localized

FONTS = Path(__file__).parent / "fonts"
WIDTH, HEIGHT = 720, 1280            # a phone screen, portrait
MARGIN = 48
INK = (33, 37, 41)
MUTED = (100, 108, 118)
BAND = (0, 121, 107)                 # teal header
WHITE = (255, 255, 255)
PDF_DPI = 150.0


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "Vazirmatn-Bold.ttf" if bold else "Vazirmatn-Regular.ttf"
    return ImageFont.truetype(str(FONTS / name), size, layout_engine=ImageFont.Layout.BASIC)


def shaped(text: str) -> str:
    """Persian letters joined and the line put in visual (right-to-left) order; emoji (which
    the font does not have) left out."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "So" and ch != "\ufe0f")
    return str(get_display(arabic_reshaper.reshape(" ".join(text.split()))))


def claim_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={CLAIM_PREFIX}{code}"


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int
          ) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and draw.textlength(shaped(candidate), font=face) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


class _Page:
    """Writes lines from the top, right-aligned (or centred), in logical order."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self.y = 0

    def text(self, text: str, size: int = 30, *, bold: bool = False, color: tuple[int, ...]
             = INK, center: bool = False, rtl: bool = True, gap: int = 14) -> None:
        face = font(size, bold)
        for line in _wrap(self.draw, text, face, WIDTH - 2 * MARGIN):
            visual = shaped(line) if rtl else line
            width = self.draw.textlength(visual, font=face)
            x = (WIDTH - width) / 2 if center else WIDTH - MARGIN - width
            self.draw.text((x, self.y), visual, font=face, fill=color)
            self.y += int(size * 1.45)
        self.y += gap

    def rule(self) -> None:
        self.draw.line((MARGIN, self.y, WIDTH - MARGIN, self.y), fill=(210, 214, 218), width=2)
        self.y += 24


def _qr(link: str, size: int) -> Image.Image:
    """The QR code at a whole number of pixels per module (at most `size` wide), with its
    quiet zone, so that every camera and decoder reads it."""
    code = segno.make(link, error="m")
    modules = code.symbol_size(scale=1, border=4)[0]
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=max(1, size // modules), border=4)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def receipt_image(tr: Translator, receipt: Receipt, bot_username: str, tz: str = TEHRAN
                  ) -> Image.Image:
    ticket, request = receipt.ticket, receipt.request
    page = _Page()
    page.draw.rectangle((0, 0, WIDTH, 120), fill=BAND)
    page.y = 30
    page.text(tr._("Mahalleyar · request receipt"), 40, bold=True, color=WHITE, center=True)
    page.y = 150
    page.text(tr._("For: {name}").format(name=request.name), 34, bold=True)
    page.text(tr._("Tracking code"), 26, color=MUTED, center=True, gap=0)
    page.text(ticket.code, 84, bold=True, center=True, rtl=False, gap=6)
    page.rule()
    n, house = receipt.neighbourhood, receipt.house
    locale = tr.locale
    weekday = format_weekday(ticket.due_at, locale, tz)
    due = f"{weekday} {format_datetime(ticket.due_at, locale, tz)}"
    for line in (
        tr._("Neighbourhood: {name}").format(name=localized(tr, n.name_fa, n.name_en)),
        tr._("House: {house}").format(house=localized(tr, house.name_fa, house.name_en)),
        tr._("Type: {kind}").format(kind=kind_label(tr, ticket.kind)),
        tr._("Filed: {when}").format(when=format_datetime(ticket.created_at, locale, tz)),
        tr._("Answer due: {due}").format(due=due),
    ):
        page.text(line, 28, gap=2)
    if request.phone:
        page.text(tr._("Phone: {phone}").format(phone=tr.digits(masked(request.phone))), 28,
                  gap=2)
    page.y += 16
    qr = _qr(claim_link(bot_username, ticket.code), 360)
    page.image.paste(qr, ((WIDTH - qr.width) // 2, page.y))
    page.y += qr.height + 4
    page.text(tr._("Scan it with the phone's camera to follow this request in Telegram."),
              24, color=MUTED, center=True, gap=2)
    page.text(f"t.me/{bot_username}", 24, color=MUTED, center=True, rtl=False, gap=10)
    if receipt.visit.title:
        page.text(tr._("Field visit: {title}").format(title=receipt.visit.title), 22,
                  color=MUTED, center=True)
    return page.image


def receipt_png(tr: Translator, receipt: Receipt, bot_username: str, tz: str = TEHRAN
                ) -> bytes:
    buffer = io.BytesIO()
    receipt_image(tr, receipt, bot_username, tz).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def receipts_pdf(tr: Translator, receipts: list[Receipt], bot_username: str,
                 tz: str = TEHRAN) -> bytes:
    """Every receipt of a visit, one per page, for printing."""
    pages = [receipt_image(tr, r, bot_username, tz) for r in receipts]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:],
                  resolution=PDF_DPI, title="Mahalleyar receipts")
    return buffer.getvalue()
