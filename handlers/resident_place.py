"""Choosing the neighbourhood: province → city → neighbourhood, typed search, location,
or a poster's deep link (/start n_CODE). Remembered in people.neighbourhood_id."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.context import CustomContext
from bot.domain.forms import ResidentForm
from bot.services import resident_forms as forms
from bot.services.errors import Refused
from bot.ui import callbacks
from bot.ui.buttons import City, PickNeighbourhood, PlaceCancel, Province, Provinces
from bot.ui.labels import localized
from bot.ui.menus import main_menu
from bot.ui.resident import (
    CANCEL_LABEL,
    consent_markup,
    labels,
    location_keyboard,
    neighbourhood_choices,
    neighbourhood_name,
    paged,
)
from handlers import resident_form as rf
from handlers.start import consent_text, welcome_text

MIN_QUERY = 2


async def _provinces(context: CustomContext, page: int) -> tuple[str, InlineKeyboardMarkup]:
    tr = context.tr
    items = await forms.provinces(context.deps)
    buttons = [(localized(tr, p.name_fa, p.name_en), Province(p.id, 0)) for p in items]
    return tr._("Choose your province:"), paged(
        tr, buttons, page, Provinces, (tr._("✖️ Cancel"), PlaceCancel()))


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


# ------------------------------------------------------------------ the picker's buttons

Screen = tuple[str, InlineKeyboardMarkup]


async def _province_screen(context: CustomContext, item: Province) -> Screen:
    tr = context.tr
    province, cities = await forms.province_page(context.deps, item.province_id)
    return (tr._("Province {name}: choose your city:").format(
                name=localized(tr, province.name_fa, province.name_en)),
            paged(tr, [(localized(tr, c.name_fa, c.name_en), City(c.id, 0)) for c in cities],
                  item.page, item, (tr._("🔙 Back to provinces"), Provinces(0))))


async def _city_screen(context: CustomContext, item: City) -> Screen:
    tr = context.tr
    city, items = await forms.city_page(context.deps, item.city_id)
    return (tr._("City {name}: choose your neighbourhood:").format(
                name=localized(tr, city.name_fa, city.name_en)),
            paged(tr, [(localized(tr, n.name_fa, n.name_en), PickNeighbourhood(n.id))
                       for n in items],
                  item.page, item, (tr._("🔙 Back to cities"), Province(city.province_id, 0))))


async def _provinces_screen(context: CustomContext, item: Provinces) -> Screen:
    return await _provinces(context, item.page)


SCREENS: dict[type, Callable[[CustomContext, Any], Coroutine[Any, Any, Screen]]] = {
    Provinces: _provinces_screen, Province: _province_screen, City: _city_screen,
}


async def _turn(update: Update, context: CustomContext, form: ResidentForm,
                item: Any) -> object:
    """Provinces, a province's cities or a city's neighbourhoods, page `item.page`."""
    query = update.callback_query
    assert query is not None
    try:
        text, markup = await SCREENS[type(item)](context, item)
    except Refused:
        return None
    await query.edit_message_text(text, reply_markup=markup)
    return None


async def _pick(update: Update, context: CustomContext, form: ResidentForm, item: Any) -> object:
    return await picked(update, context, form, item.neighbourhood_id)


async def _cancel(update: Update, context: CustomContext, form: ResidentForm, item: Any
                  ) -> object:
    return await cancel_place(update, context)


PlaceAction = Callable[[Update, CustomContext, ResidentForm, Any], Coroutine[Any, Any, object]]
BUTTONS: dict[type, PlaceAction] = {
    Provinces: _turn, Province: _turn, City: _turn,
    PickNeighbourhood: _pick, PlaceCancel: _cancel,
}


@rf.step
async def on_button(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    item = callbacks.unpack(query.data)
    action = BUTTONS.get(type(item)) if item is not None else None
    if action is None:
        await query.answer(context.tr._("This menu has expired."))
        return None
    await query.answer()
    return await action(update, context, form, item)


# ------------------------------------------------------------------ typed names and locations

@rf.step
async def on_text(update: Update, context: CustomContext, form: ResidentForm) -> object:
    message = update.effective_message
    assert message is not None and message.text is not None
    tr = context.tr
    query = message.text.strip()
    if query in labels(CANCEL_LABEL):
        return await cancel_place(update, context)
    if len(query) < MIN_QUERY or len(query) > 60:
        await message.reply_text(tr._("Please type at least two letters of the "
                                      "neighbourhood's name."))
        return None
    found = await forms.search(context.deps, query)
    if not found:
        await message.reply_text(
            tr._("I found no neighbourhood like «{query}». Try another spelling, a shorter "
                 "part of the name, or choose from the list.").format(query=query),
            reply_markup=neighbourhood_choices(tr, []))
        return None
    await message.reply_text(tr._("Is it one of these? Press yours:"),
                             reply_markup=neighbourhood_choices(tr, found))
    return None


@rf.step
async def on_location(update: Update, context: CustomContext, form: ResidentForm) -> object:
    message = update.effective_message
    assert message is not None and message.location is not None
    tr = context.tr
    near = await forms.nearest(context.deps, message.location.latitude,
                               message.location.longitude)
    if not near:
        await message.reply_text(tr._("I have no map positions for neighbourhoods yet. "
                                      "Please type its name or choose from the list."),
                                 reply_markup=neighbourhood_choices(tr, []))
        return None
    await message.reply_text(tr._("These neighbourhoods are closest to you. Press yours:"),
                             reply_markup=neighbourhood_choices(tr, near))
    return None


async def cancel_place(update: Update, context: CustomContext) -> object:
    await rf.end_form(update, context)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, context.tr._("Stopped. Main menu:"),
                                   reply_markup=main_menu(context.tr))
    return rf.END


async def picked(update: Update, context: CustomContext, form: ResidentForm | None,
                 nid: int) -> object:
    tr = context.tr
    person_id, chat_id = rf.ids(update)
    try:
        done = await forms.pick(context.deps, person_id, form, nid)
    except Refused:
        return None
    context.person = done.person
    name = neighbourhood_name(tr, done.neighbourhood)
    if update.callback_query is not None:
        await update.callback_query.edit_message_text(
            tr._("📍 Your neighbourhood: {name}").format(name=name))
    if done.form is not None:
        return await rf.ask_kind(update, context, done.neighbourhood)
    await context.bot.send_message(
        chat_id, tr._("Saved. Your requests will go to the mayor and houses of {name}. "
                      "To send one, press «📝 New request».").format(name=name),
        reply_markup=main_menu(tr))
    return rf.END


async def place_entry(update: Update, context: CustomContext) -> object:
    """/neighbourhood and «📍 My neighbourhood»."""
    person = context.person
    if person is None:
        return rf.END
    started = await forms.start_place(context.deps, person, rf.ids(update)[1])
    intro = None
    if started.current is not None:
        intro = context.tr._("Your neighbourhood now: {name}.").format(
            name=neighbourhood_name(context.tr, started.current))
    return await ask_place(update, context, intro)


async def deep_link(update: Update, context: CustomContext) -> object:
    """/start n_CODE from a poster: preselect the neighbourhood, then welcome."""
    message = update.effective_message
    assert message is not None and message.text is not None
    tr = context.tr
    code = message.text.split(maxsplit=1)[1][2:] if " " in message.text else ""
    person_id, chat_id = rf.ids(update)
    link = await forms.deep_link(context.deps, person_id, chat_id, code)
    context.person = link.person
    await message.reply_text(welcome_text(context), reply_markup=main_menu(tr))
    if link.chosen is None:
        return await ask_place(update, context, tr._("This neighbourhood link is not valid "
                                                     "any more."))
    name = neighbourhood_name(tr, link.chosen)
    if link.person.consent_at is None:
        await message.reply_text(tr._("📍 Your neighbourhood: {name}").format(name=name) +
                                 "\n\n" + consent_text(context),
                                 reply_markup=consent_markup(tr))
    else:
        await message.reply_text(tr._("📍 Your neighbourhood: {name}\nTo send a request "
                                      "press «📝 New request».").format(name=name))
    return rf.END
