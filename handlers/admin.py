"""Onboarding and roles: /invite, /start inv_CODE, /roles, /revoke (admins) and /bind,
/unbind (staff in a group chat)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import CustomContext
from bot.domain.limits import parse_int
from bot.services import admin as svc
from bot.services.roles import INVITE_USAGE, Consumed, InviteError, invite_link
from bot.services.staff import houses
from bot.ui.errors import refused_text
from bot.ui.labels import house_choices
from bot.ui.menus import main_menu
from handlers.command_menus import sync_commands
from handlers.ticket_kit import command_args as _args
from handlers.ticket_kit import say as _say


async def _admin(update: Update, context: CustomContext) -> bool:
    if context.has_role("admin"):
        return True
    await _say(update, context, context.tr._("This command is for admins."))
    return False


async def cmd_invite(update: Update, context: CustomContext) -> None:
    if not await _admin(update, context):
        return
    tr = context.tr
    args = _args(update, 3)
    if not args:
        await _say(update, context, tr._(INVITE_USAGE).format(
            houses=house_choices(tr, await houses(context.deps))))
        return
    role = args[0].lower()
    house, area = (None, " ".join(args[1:])) if role == "mayor" else \
        (args[1] if len(args) > 1 else None, " ".join(args[2:]))
    user = update.effective_user
    assert user is not None
    try:
        invite = await svc.new_invite(context.deps, role, house, area, created_by=user.id)
    except InviteError as exc:
        await _say(update, context, refused_text(tr, exc) + "\n\n" + tr._(INVITE_USAGE).format(
            houses=house_choices(tr, await houses(context.deps))))
        return
    link = invite_link(context.bot.username, invite.code)
    await _say(update, context, tr._(
        "Invite created. Send this link to the person; it works once, until {days} days "
        "from now:\n{link}").format(days=tr.digits(7), link=link))


async def start_invite(update: Update, context: CustomContext) -> None:
    tr = context.tr
    user = update.effective_user
    assert user is not None
    args = context.args or []
    code = args[0][len("inv_"):] if args else ""
    result, described = await svc.accept_invite(context.deps, tr, code, user.id)
    texts = {
        Consumed.UNKNOWN: tr._("This invite link is not valid. Please ask the admin for a "
                               "new one."),
        Consumed.USED: tr._("This invite link was already used. Each link works once; "
                            "please ask the admin for a new one."),
        Consumed.EXPIRED: tr._("This invite link has expired. Please ask the admin for a "
                               "new one."),
    }
    if result is not Consumed.OK:
        await _say(update, context, texts[result])
        return
    await sync_commands(context.bot, context.deps, user.id, tr.locale)
    message = update.effective_message
    assert message is not None
    await message.reply_text(
        tr._("Welcome! Your new role:\n{roles}\n\nSend /help to see your commands.").format(
            roles="\n".join(f"• {d}" for d in described)), reply_markup=main_menu(tr))


async def cmd_roles(update: Update, context: CustomContext) -> None:
    if not await _admin(update, context):
        return
    tr = context.tr
    lines = await svc.role_lines(context.deps, tr)
    if not lines:
        await _say(update, context, tr._("Nobody has a role yet. Create an invite with "
                                         "/invite."))
        return
    out = [tr._("Roles (take one away with /revoke NUMBER):")]
    out += [f"#{tr.digits(line.id)} {line.who}: {line.what}" for line in lines]
    bound = await svc.binding_lines(context.deps, tr)
    if bound:
        out += ["", tr._("Bound groups (they end when the person who bound them loses the "
                         "role):")]
        out += [tr._("group {chat}: {what}, bound by {person}").format(
            chat=b.chat_id, what=b.what, person=b.bound_by) for b in bound]
    await _say(update, context, "\n".join(out))


async def cmd_revoke(update: Update, context: CustomContext) -> None:
    if not await _admin(update, context):
        return
    tr = context.tr
    args = _args(update, 1)
    number = parse_int(args[0]) if args else None
    if number is None:
        await _say(update, context, tr._("Write the number from /roles: /revoke NUMBER"))
        return
    role = await svc.revoke(context.deps, number)
    if role is None:
        await _say(update, context, tr._("There is no active role number {number}.").format(
            number=tr.digits(number)))
        return
    await sync_commands(context.bot, context.deps, role.person_id)
    await _say(update, context, tr._("Role #{number} was taken away.").format(
        number=tr.digits(number)))


async def cmd_bind(update: Update, context: CustomContext) -> None:
    tr = context.tr
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    if chat.type == ChatType.PRIVATE:
        await _say(update, context, tr._("Send /bind in the group chat of your team."))
        return
    bound = await svc.bind_group(context.deps, tr, chat.id, user.id, context.roles)
    if not bound:
        await _say(update, context, tr._("Only staff or supervisors of a house can bind a "
                                         "group."))
        return
    await _say(update, context, tr._("This group now shares the queue of:\n{areas}\nNew "
                                     "requests will be announced here; use /queue.").format(
        areas="\n".join(f"• {b}" for b in bound)))


async def cmd_unbind(update: Update, context: CustomContext) -> None:
    tr = context.tr
    chat = update.effective_chat
    assert chat is not None
    if chat.type == ChatType.PRIVATE:
        await _say(update, context, tr._("Send /unbind in the group chat of your team."))
        return
    count = await svc.unbind_group(context.deps, chat.id, context.roles)
    await _say(update, context, tr._("This group no longer receives your house's requests.")
               if count else tr._("This group was not bound to your house."))


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("start", start_invite, filters=filters.Regex(r"^/start(@\w+)? inv_")),
    CommandHandler("invite", cmd_invite),
    CommandHandler("roles", cmd_roles),
    CommandHandler("revoke", cmd_revoke),
    CommandHandler("bind", cmd_bind),
    CommandHandler("unbind", cmd_unbind),
]
