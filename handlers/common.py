"""Runs first for every update: drop repeats, know the person, pick their language."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.context import CustomContext
from bot.domain.models import Role
from bot.i18n import choose_locale, translator
from bot.services import people as people_svc

log = logging.getLogger(__name__)

GROUP = -100


async def prepare(update: Update, context: CustomContext) -> None:
    deps = context.deps
    now = deps.clock.now()
    user = update.effective_user
    who = None if user is None or user.is_bot else (user.id, user.first_name, user.username)
    try:
        arrival = await people_svc.arrive(deps, update.update_id, who)
    except people_svc.SeenBefore:
        log.info("update %s seen before; skipped", update.update_id)
        raise ApplicationHandlerStop from None
    if arrival is None or user is None:
        return
    person, roles = arrival.person, arrival.roles
    if user.id in deps.settings.admin_ids and not any(r.role == "admin" for r in roles):
        roles.append(Role(id=0, person_id=user.id, role="admin", scope_kind="all",
                          created_at=now))
    context.person = person
    context.roles = roles
    context.tr = translator(choose_locale(person.locale, user.language_code,
                                          deps.settings.default_locale))
    # Staff, mayors and admins are trusted: a shift's worth of commands is not a flood.
    if update.message is not None and not roles and await _flooding(update, context, user.id):
        raise ApplicationHandlerStop


async def _flooding(update: Update, context: CustomContext, user_id: int) -> bool:
    """Count messages per person per minute (in memory); past the limit, answer once with a
    polite request to slow down and ignore the rest of that minute."""
    minute = int(context.deps.clock.now().timestamp() // 60)
    counts: dict[int, list[int]] = context.bot_data.setdefault("flood", {})
    if len(counts) > 10_000:   # forget past minutes so the table stays small
        for stale in [uid for uid, (m, _) in counts.items() if m != minute]:
            del counts[stale]
    seen = counts.get(user_id)
    if seen is None or seen[0] != minute:
        seen = counts[user_id] = [minute, 0]
    seen[1] += 1
    limit = context.deps.settings.flood_messages_per_minute
    if seen[1] <= limit:
        return False
    if seen[1] == limit + 1 and update.effective_message is not None:
        await update.effective_message.reply_text(context.tr._(
            "You are sending messages very fast. Please wait a minute, then continue; "
            "what you sent before is kept."))
    return True


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [TypeHandler(Update, prepare)]
