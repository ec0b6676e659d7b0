"""The Telegram command menus, defined once: everyone's (default scope) and, per person,
the resident commands plus those of the roles they hold (chat scope)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.i18n import N_, Translator

# (command, description) for the Telegram command menu, in every language.
COMMANDS: list[tuple[str, str]] = [
    ("start", N_("Start and main menu")),
    ("new", N_("Send a new request")),
    ("my", N_("My requests")),
    ("status", N_("State of a request by its code")),
    ("neighbourhood", N_("Change my neighbourhood")),
    ("language", N_("Language / زبان")),
    ("help", N_("Help")),
    ("cancel", N_("Stop the current step")),
    ("claim", N_("A request filed for me at a field visit")),
    ("forget_me", N_("Erase my personal data")),
]

MAYOR_COMMANDS: list[tuple[str, str]] = [
    ("inbox", N_("New requests to route")),
    ("route", N_("Send a request to another house")),
    ("duplicate", N_("Close a request as a duplicate")),
    ("note", N_("Internal note on a request")),
    ("show", N_("Show a request by its code")),
    ("files", N_("Files and location of a request")),
    ("visit", N_("Field visit: file requests for residents")),
    ("handover", N_("One-time link that hands a visit request over")),
    ("urgent", N_("Mark a request urgent (shorter deadline)")),
    ("noturgent", N_("Mark a request not urgent")),
]

STAFF_COMMANDS: list[tuple[str, str]] = [
    ("queue", N_("Open requests of my house")),
    ("show", N_("Show a request by its code")),
    ("take", N_("Take a request")),
    ("reply", N_("Answer the resident")),
    ("ask", N_("Ask the resident a question")),
    ("note", N_("Internal note on a request")),
    ("transfer", N_("Pass a request to another house")),
    ("close", N_("Close a request")),
    ("reopen", N_("Reopen a request")),
    ("overdue", N_("Requests past their deadline")),
    ("search", N_("Search requests")),
    ("templates", N_("Ready answers")),
    ("stats", N_("Numbers of my area")),
    ("export", N_("Download requests as a spreadsheet")),
    ("files", N_("Files and location of a request")),
    ("visit", N_("Field visit: file requests for residents")),
    ("handover", N_("One-time link that hands a visit request over")),
]

ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("invite", N_("Create an invite link for a role")),
    ("roles", N_("Who has which role")),
    ("revoke", N_("Take a role away")),
]

ROLE_COMMANDS: dict[str, list[tuple[str, str]]] = {
    "mayor": MAYOR_COMMANDS,
    "staff": STAFF_COMMANDS,
    "supervisor": STAFF_COMMANDS,
    "admin": ADMIN_COMMANDS,
}

# Telegram allows at most 100 commands per scope and language.
MAX_COMMANDS = 100


def menu(tr: Translator, roles: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Resident commands, then each held role's (in a fixed order), each command once."""
    held = set(roles)
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    groups = [COMMANDS] + [ROLE_COMMANDS[r] for r in ("mayor", "staff", "supervisor",
                                                        "admin") if r in held]
    for group in groups:
        for name, text in group:
            if name not in seen:
                seen.add(name)
                out.append((name, tr._(text)))
    return out[:MAX_COMMANDS]
