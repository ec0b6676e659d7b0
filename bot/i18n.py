"""Gettext catalogues per locale, loaded from `locales/<lang>/LC_MESSAGES/messages.po`.

Catalogues are compiled in memory at start (Babel), so a fresh clone needs no build step;
`pybabel compile` output (.mo) is used when present and newer. Source strings are English;
Persian is the default locale.

Use: `tr = translator("fa"); tr._("Hello {name}").format(name=...)`. Strings defined at import
time are marked with `N_()` and translated where they are shown.
"""

from __future__ import annotations

import gettext
import io
import logging
from functools import cache

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import LOCALES_DIR
from bot.config import SUPPORTED_LOCALES

log = logging.getLogger(__name__)

DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


class Translator:
    """Translations for one locale; `_` and `ngettext` are what Babel extracts."""

    def __init__(self, locale: str, catalogue: gettext.NullTranslations) -> None:
        self.locale = locale
        self._catalogue = catalogue

    def _(self, message: str) -> str:
        return self._catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue.ngettext(singular, plural, n)

    @property
    def rtl(self) -> bool:
        return self.locale == "fa"

    def digits(self, text: object) -> str:
        """Persian digits for `fa`, as they are for other locales."""
        value = str(text)
        if self.locale != "fa":
            return value
        return value.translate(_PERSIAN_DIGITS)


_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@cache
def translator(locale: str) -> Translator:
    if locale not in SUPPORTED_LOCALES:
        locale = SUPPORTED_LOCALES[0]
    return Translator(locale, _load(locale))


def _load(locale: str) -> gettext.NullTranslations:
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if not po.exists():
        log.warning("no catalogue for locale %s; showing source strings", locale)
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def localized(tr: Translator, name_fa: str, name_en: str) -> str:
    """Reference data carries both names; pick the reader's (also `bot.ui.labels.localized`)."""
    return name_fa if tr.locale == "fa" else name_en


def choose_locale(stored: str | None, telegram_language_code: str | None, default: str) -> str:
    """The user's own choice, else their Telegram language if we have it, else the default."""
    if stored in SUPPORTED_LOCALES:
        return stored
    if telegram_language_code:
        short = telegram_language_code.split("-")[0].lower()
        if short in SUPPORTED_LOCALES:
            return short
    return default
