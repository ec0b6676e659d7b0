"""Choosing the neighbourhood: province → city → neighbourhood, typed search, location,
or a poster's deep link (/start n_CODE). Remembered in people.neighbourhood_id."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)

from bot.context import CustomContext
from bot.domain.models import Neighbourhood
from bot.i18n import N_, Translator
from bot.services import resident as service
from bot.ui import callbacks
from bot.ui.labels import localized
from bot.ui.menus import main_menu
from handlers import resident_form as rf
from handlers.start import consent_markup, consent_text, welcome_text
from storage import people, places

F = "place"
PAGE = 8
MIN_QUERY = 2
LOCATION_LABEL = N_("📍 Send my location")
CANCEL_LABEL = N_("✖️ Cancel")


def neighbourhood_name(tr: Translator, n: Neighbourhood) -> str:
    return tr._("{name}, {city}").format(name=localized(tr, n.name_fa, n.name_en),
                                         city=localized(tr, n.city_fa, n.city_en))


def _paged(tr: Translator, items: Sequence[tuple[str, str]], page: int, nav: str,
           back: tuple[str, str] | None) -> InlineKeyboardMarkup:
    """Two buttons a row, PAGE a page, previous/next and a back button."""
    pages = max(1, (len(items) + PAGE - 1) // PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = items[page * PAGE:(page + 1) * PAGE]
    rows = [[InlineKeyboardButton(label, callback_data=data) for label, data in chunk[i:i + 2]]
            for i in range(0, len(chunk), 2)]
    moves = []
    if page > 0:
        moves.append(InlineKeyboardButton(tr._("◀️ Previous"),
                                          callback_data=f"{nav}:{page - 1}"))
    if page + 1 < pages:
        moves.append(InlineKeyboardButton(tr._("Next ▶️"), callback_data=f"{nav}:{page + 1}"))
    if moves:
        rows.append(moves)
    if back is not None:
        rows.append([InlineKeyboardButton(back[0], callback_data=back[1])])
    return InlineKeyboardMarkup(rows)


def location_keyboard(tr: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup([[KeyboardButton(tr._(LOCATION_LABEL), request_location=True)],
                                [KeyboardButton(tr._(CANCEL_LABEL))]],
                               resize_keyboard=True, one_time_keyboard=True)


async def _provinces(context: CustomContext, page: int) -> tuple[str, InlineKeyboardMarkup]:
    tr = context.tr
    async with context.deps.db.read() as conn:
        items = await places.provinces(conn)
    buttons = [(localized(tr, p.name_fa, p.name_en), callbacks.build(F, "p", p.id, 0))
               for p in items]
    text = tr._("Choose your province:")
    return text, _paged(tr, buttons, page, callbacks.build(F, "pv"),
                        (tr._("✖️ Cancel"), callbacks.build(F, "x")))


async def ask_place(update: Update, context: CustomContext, intro: str | None = None) -> str:
    """Show the first step; typed names and a shared location work at every step."""
    tr = context.tr
    message = update.effective_message
    assert message is not None
    hint = tr._("Which neighbourhood do you live in? Type a part of its name (for example "
                "«قائمیه»), send your location with the button below, or choose from "
                "the list.")
    await message.reply_text(f"{intro}\n\n{hint}" if intro else hint,
                             reply_markup=location_keyboard(tr))
    text, markup = await _provinces(context, 0)
    await message.reply_text(text, reply_markup=markup)
    return rf.PLACE


@rf.step
async def on_button(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    data = callbacks.parse(query.data)
    tr = context.tr
    if data is None:
        await query.answer(tr._("This menu has expired."))
        return None
    await query.answer()
    if data.action == "x":
        return await cancel_place(update, context)
    if data.action == "n":
        nid = data.int_arg(0)
        return await picked(update, context, nid) if nid is not None else None
    page = data.int_arg(1) or 0
    if data.action == "pv":
        text, markup = await _provinces(context, data.int_arg(0) or 0)
        await query.edit_message_text(text, reply_markup=markup)
        return None
    async with context.deps.db.read() as conn:
        if data.action == "p" and (pid := data.int_arg(0)) is not None:
            province = await places.province(conn, pid)
            cities = await places.cities(conn, pid)
            if province is None:
                return None
            text = tr._("Province {name}: choose your city:").format(
                name=localized(tr, province.name_fa, province.name_en))
            markup = _paged(tr, [(localized(tr, c.name_fa, c.name_en),
                                  callbacks.build(F, "c", c.id, 0)) for c in cities],
                            page, callbacks.build(F, "p", pid),
                            (tr._("🔙 Back to provinces"), callbacks.build(F, "pv", 0)))
        elif data.action == "c" and (cid := data.int_arg(0)) is not None:
            city = await places.city(conn, cid)
            items = await places.neighbourhoods(conn, cid)
            if city is None:
                return None
            text = tr._("City {name}: choose your neighbourhood:").format(
                name=localized(tr, city.name_fa, city.name_en))
            markup = _paged(tr, [(localized(tr, n.name_fa, n.name_en),
                                  callbacks.build(F, "n", n.id)) for n in items],
                            page, callbacks.build(F, "c", cid),
                            (tr._("🔙 Back to cities"),
                             callbacks.build(F, "p", city.province_id, 0)))
        else:
            return None
    await query.edit_message_text(text, reply_markup=markup)
    return None


def _choices(tr: Translator, found: Sequence[Neighbourhood]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(neighbourhood_name(tr, n),
                                  callback_data=callbacks.build(F, "n", n.id))] for n in found]
    rows.append([InlineKeyboardButton(tr._("📋 Choose from the list"),
                                      callback_data=callbacks.build(F, "pv", 0))])
    return InlineKeyboardMarkup(rows)


@rf.step
async def on_text(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None and message.text is not None
    tr = context.tr
    query = message.text.strip()
    if query in _cancel_labels():
        return await cancel_place(update, context)
    if len(query) < MIN_QUERY or len(query) > 60:
        await message.reply_text(tr._("Please type at least two letters of the "
                                      "neighbourhood's name."))
        return None
    async with context.deps.db.read() as conn:
        found = await service.search_neighbourhoods(conn, query)
    if not found:
        await message.reply_text(
            tr._("I found no neighbourhood like «{query}». Try another spelling, a shorter "
                 "part of the name, or choose from the list.").format(query=query),
            reply_markup=_choices(tr, []))
        return None
    await message.reply_text(tr._("Is it one of these? Press yours:"),
                             reply_markup=_choices(tr, found))
    return None


@rf.step
async def on_location(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None and message.location is not None
    tr = context.tr
    async with context.deps.db.read() as conn:
        near = await service.nearest_neighbourhoods(conn, message.location.latitude,
                                                    message.location.longitude)
    if not near:
        await message.reply_text(tr._("I have no map positions for neighbourhoods yet. "
                                      "Please type its name or choose from the list."),
                                 reply_markup=_choices(tr, []))
        return None
    await message.reply_text(tr._("These neighbourhoods are closest to you. Press yours:"),
                             reply_markup=_choices(tr, [n for n, _ in near]))
    return None


def _cancel_labels() -> list[str]:
    from bot.config import SUPPORTED_LOCALES
    from bot.i18n import translator
    return [translator(loc)._(CANCEL_LABEL) for loc in SUPPORTED_LOCALES]


async def cancel_place(update: Update, context: CustomContext) -> object:
    rf.clear(context)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, context.tr._("Stopped. Main menu:"),
                                   reply_markup=main_menu(context.tr))
    return rf.END


async def picked(update: Update, context: CustomContext, nid: int) -> object:
    tr = context.tr
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    deps = context.deps
    async with deps.db.tx() as conn:
        chosen = await places.neighbourhood(conn, nid)
        if chosen is None:
            return None
        await people.set_neighbourhood(conn, user.id, nid, deps.clock.now())
        context.person = await people.get(conn, user.id)
    name = neighbourhood_name(tr, chosen)
    if update.callback_query is not None:
        await update.callback_query.edit_message_text(
            tr._("📍 Your neighbourhood: {name}").format(name=name))
    form = rf.form_of(context)
    if form.get("mode") == "new":
        from handlers.resident_new import ask_kind
        return await ask_kind(update, context)
    rf.clear(context)
    await context.bot.send_message(
        chat.id, tr._("Saved. Your requests will go to the mayor and houses of {name}. "
                      "To send one, press «📝 New request».").format(name=name),
        reply_markup=main_menu(tr))
    return rf.END


async def place_entry(update: Update, context: CustomContext) -> object:
    """/neighbourhood and «📍 My neighbourhood»."""
    rf.new_form(context, "place")
    intro = None
    if context.person is not None and context.person.neighbourhood_id is not None:
        async with context.deps.db.read() as conn:
            current = await places.neighbourhood(conn, context.person.neighbourhood_id)
        if current is not None:
            intro = context.tr._("Your neighbourhood now: {name}.").format(
                name=neighbourhood_name(context.tr, current))
    return await ask_place(update, context, intro)


async def deep_link(update: Update, context: CustomContext) -> object:
    """/start n_CODE from a poster: preselect the neighbourhood, then welcome."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.text is not None and user is not None
    tr = context.tr
    code = message.text.split(maxsplit=1)[1][2:] if " " in message.text else ""
    deps = context.deps
    async with deps.db.tx() as conn:
        chosen = await places.neighbourhood_by_code(conn, code) if code else None
        if chosen is not None:
            await people.set_neighbourhood(conn, user.id, chosen.id, deps.clock.now())
            context.person = await people.get(conn, user.id)
    await message.reply_text(welcome_text(context), reply_markup=main_menu(tr))
    if chosen is None:
        rf.new_form(context, "place")
        return await ask_place(update, context, tr._("This neighbourhood link is not valid "
                                                     "any more."))
    rf.clear(context)
    name = neighbourhood_name(tr, chosen)
    if context.person is None or context.person.consent_at is None:
        await message.reply_text(tr._("📍 Your neighbourhood: {name}").format(name=name) +
                                 "\n\n" + consent_text(context),
                                 reply_markup=consent_markup(tr))
    else:
        await message.reply_text(tr._("📍 Your neighbourhood: {name}\nTo send a request "
                                      "press «📝 New request».").format(name=name))
    return rf.END
