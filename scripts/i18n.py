"""Keep the gettext catalogues in step with the code (wraps Babel's extract/update).

    python scripts/i18n.py update    # extract -> locales/messages.pot, update fa/en .po;
                                     # English msgstr = msgid (the source language)
    python scripts/i18n.py missing   # list Persian strings still untranslated (exit 1 if any)
    python scripts/i18n.py fill FILE.json   # set Persian msgstr from {"msgid": "msgstr"}
                                            # (plurals: {"singular": ["form", ...]})
    python scripts/i18n.py compile   # optional: write .mo files (loaded when newer than .po)

Equivalent pybabel commands are in the README; this script only adds the English fill-in
and the missing report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"


def _po(locale: str) -> Path:
    return LOCALES / locale / "LC_MESSAGES" / "messages.po"


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True,
                   cwd=ROOT)


def update() -> None:
    _pybabel("extract", "-F", "babel.cfg", "--no-location", "--sort-output",
             "--project=mahalleyar", "-o", str(POT), ".")
    for locale in ("fa", "en"):
        if not _po(locale).exists():
            _pybabel("init", "-i", str(POT), "-d", str(LOCALES), "-l", locale)
        _pybabel("update", "-i", str(POT), "-d", str(LOCALES), "-l", locale,
                 "--no-fuzzy-matching", "--ignore-obsolete")
    path = _po("en")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)


def missing() -> int:
    with _po("fa").open("rb") as handle:
        catalog = read_po(handle, locale="fa")
    gaps = [m.id for m in catalog
            if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    for msgid in gaps:
        print(repr(msgid))
    print(f"{len(gaps)} untranslated", file=sys.stderr)
    return 1 if gaps else 0


def fill(source: Path) -> int:
    import json

    translations = json.loads(source.read_text(encoding="utf-8"))
    path = _po("fa")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="fa")
    unknown = [k for k in translations if k not in catalog]
    for msgid, text in translations.items():
        if msgid in catalog:   # plural entries: the singular msgid and a list of forms
            catalog[msgid].string = tuple(text) if isinstance(text, list) else text
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    for msgid in unknown:
        print(f"not in catalogue (run update first?): {msgid!r}", file=sys.stderr)
    return 1 if unknown else 0


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    if command == "update":
        update()
        return 0
    if command == "missing":
        return missing()
    if command == "fill" and len(sys.argv) > 2:
        return fill(Path(sys.argv[2]))
    if command == "compile":
        _pybabel("compile", "-d", str(LOCALES), "-D", "messages")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
