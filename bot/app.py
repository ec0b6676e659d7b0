"""Composition root: the only place that knows every handler, job and dependency.

Handler order matters and is explicit:
  group -100  handlers.common.prepare   dedupe the update, load the person, pick the language
  group -90   handlers.guards.guard     no person, edited messages, resident flows in groups
  group 0     feature handlers, most specific first; the generic /start, /help come after the
              features (deep links like /start n_CODE are caught by the feature first), and
              handlers.fallback answers anything nobody understood.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    ContextTypes,
)

from bot import metrics
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import CustomContext
from bot.deps import Deps
from bot.i18n import translator
from bot.inbox import Inbox, InboxQueue
from bot.outbox import Outbox
from bot.reliable_bot import SEND_TIMEOUTS, ReliableBot
from bot.sender import Budgets, PrioritySender
from bot.services import admin as admin_svc
from bot.services.reference import load_reference
from bot.sla import register_jobs
from bot.ui.bidi import BidiBot
from bot.ui.commands import COMMANDS
from bot.ui.notices import NoticeRenderer
from bot.update_order import PerChatProcessor
from handlers import (
    admin,
    common,
    errors,
    fallback,
    guards,
    mayor,
    privacy,
    reports,
    resident_conversation,
    resident_track,
    staff,
    start,
    visit,
)
from handlers.command_menus import sync_commands
from storage import leader_lease
from storage.backends import database_for
from storage.persistence import SQLitePersistence

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "123456:SANDBOX-TOKEN"
CONCURRENT_UPDATES = 32
"""Updates of different people handled at once (each chat and person one at a time,
`bot.update_order`); 1 = one update at a time (measured in bench/bench_updates.py)."""
IDLE_TRANSACTION_SECONDS = 60.0
"""PostgreSQL: the server ends a transaction of ours idle this long (at least)."""
SENDING_BUDGETS = True
"""False only in bench/bench_updates.py (its unthrottled runs): the sender keeps no budgets."""

Handlers = list[BaseHandler[Update, CustomContext, None]]


class AppBot(ReliableBot, BidiBot):
    """Every Bot API call: texts made bidi-safe (`bot/ui/bidi.py`), then the sender's rules
    (`bot/reliable_bot.py`: Telegram's limits in UTF-16 units, the error classifier)."""

def feature_handlers(settings: Settings) -> Handlers:
    """Feature modules in the order they must be tried (most specific first)."""
    # Role commands first (explicit commands and their own callback namespaces), so staff
    # commands work even while that person is in a resident form; admin's /start inv_… deep
    # link must come before the resident conversation's /start entry (so must the field
    # visit's /start c_… and /start h_… claim links).
    return [*visit.HANDLERS, *admin.HANDLERS, *mayor.HANDLERS, *staff.HANDLERS,
            *reports.HANDLERS,
            *privacy.HANDLERS,
            *resident_conversation.handlers(settings), *resident_track.HANDLERS, *start.HANDLERS]


def build_application(settings: Settings, *, clock: Clock | None = None,
                      application_class: type[Application[Any, Any, Any, Any, Any, Any]]
                      = Application, token: str | None = None,
                      budgets: Budgets | None = None
                      ) -> Application[Any, Any, Any, Any, Any, Any]:
    """`budgets`: Telegram's sending budgets by default (tests pass unlimited ones)."""
    db = database_for(settings.database)
    clock = clock or SystemClock()
    notices = NoticeRenderer(default_locale=settings.default_locale,
                             timezone=settings.timezone)
    deps = Deps(settings=settings, db=db, clock=clock,
                outbox=Outbox(db, clock, notices=notices, quiet=settings.quiet,
                              timezone=settings.timezone, admin_chat_id=settings.admin_chat_id))
    bot_token = token or (settings.bot_token.get_secret_value() if settings.bot_token
                          else SANDBOX_TOKEN)
    # AppBot (ReliableBot over BidiBot): limits, the classifier's sender-side rules, bidi
    # marks. Every call passes the one sender (budgets, priorities, retries of direct
    # replies); send timeouts are long so a slow answer is waited for, never sent twice.
    bot = AppBot(
        bot_token, base_url=settings.bot_api_base_url, base_file_url=settings.file_base_url,
        request=metrics.counting_request(256, **SEND_TIMEOUTS),
        get_updates_request=metrics.counting_request(1),
        rate_limiter=PrioritySender(budgets or (Budgets() if SENDING_BUDGETS
                                                else Budgets.unlimited())))
    builder = (
        ApplicationBuilder()
        .application_class(application_class)
        .bot(bot)
        .context_types(ContextTypes(context=CustomContext))
        .persistence(SQLitePersistence(db, update_interval=1.0))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    # Fetched updates are kept before Telegram is told they arrived (bot/inbox.py): polling's
    # batches by the bot, the webhook's by the queue.
    inbox = Inbox(db, clock)
    bot.keep_updates_in(inbox)
    builder = builder.update_queue(InboxQueue(inbox))
    if CONCURRENT_UPDATES > 1:
        worker = deps.outbox
        assert isinstance(worker, Outbox)
        builder = builder.concurrent_updates(PerChatProcessor(
            CONCURRENT_UPDATES, busy=worker.busy_chats, on_done=worker.chats_done,
            on_handled=inbox.handled))
    app = builder.build()
    app.bot_data["deps"] = deps
    app.bot_data["inbox"] = inbox
    app.add_handlers(common.HANDLERS, group=common.GROUP)
    app.add_handlers(guards.HANDLERS, group=guards.GROUP)
    # Telegram replies: staff answering a prompt or a ticket card (group -10), then a resident
    # replying to a relayed message (group -1); each stops the update once it handled it.
    app.add_handlers(staff.PRIORITY_HANDLERS, group=staff.PRIORITY_GROUP)
    app.add_handlers(staff.PENDING_HANDLERS, group=staff.PENDING_GROUP)
    # A claim's four digits and the next input of an open field visit (group -5).
    app.add_handlers(visit.ROUTE_HANDLERS, group=visit.ROUTE_GROUP)
    app.add_handlers(resident_track.PRE_HANDLERS, group=resident_track.PRE_GROUP)
    app.add_handlers([*feature_handlers(settings), *fallback.HANDLERS], group=0)
    app.add_error_handler(errors.error_handler)
    register_jobs(app, deps)
    return app


def deps_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Deps:
    deps = app.bot_data["deps"]
    assert isinstance(deps, Deps)
    return deps


def inbox_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Inbox:
    inbox = app.bot_data["inbox"]
    assert isinstance(inbox, Inbox)
    return inbox


def outbox_worker(app: Application[Any, Any, Any, Any, Any, Any]) -> Outbox:
    """The delivery side of `deps.outbox` (use cases only see the queue writer)."""
    outbox = deps_of(app).outbox
    assert isinstance(outbox, Outbox)
    return outbox


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    deps = deps_of(app)
    await deps.db.open()
    if deps.db.dialect == "postgresql":
        # A leader frozen mid-transaction must not keep its row locks from the next one for
        # long; generous, since the server ending our one connection costs more.
        async with deps.db.autocommit() as conn:
            await leader_lease.limit_idle_transactions(
                conn, max(IDLE_TRANSACTION_SECONDS, 2 * deps.settings.failover_seconds))
    await load_reference(deps.db)
    await admin_svc.end_orphaned_bindings(deps)
    deps.calendar    # noqa: B018 -- the working calendar is read at start, not mid-request
    # What the previous run (or the old leader) fetched but did not finish, before polling.
    inbox = inbox_of(app)
    await inbox.prune()
    await inbox.replay(app.update_queue, app.bot)
    await _set_commands(app)
    outbox_worker(app).start(app.bot)


async def _post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    deps = deps_of(app)
    await outbox_worker(app).stop()
    await inbox_of(app).close()
    await deps.db.close()


async def _set_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Persian for everyone by default, English for English-language Telegram apps."""
    default = deps_of(app).settings.default_locale
    for locale, language_code in ((default, None), ("en", "en")):
        tr = translator(locale)
        commands = [BotCommand(name, tr._(text)) for name, text in COMMANDS]
        await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault(),
                                      language_code=language_code)
    # Role menus are set when a role is granted; refreshed here for roles granted while the
    # menu definitions were different (an older version) and for configured admins.
    await sync_role_menus(app)


async def sync_role_menus(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every role holder's (and configured admin's) own command menu, as the roles are now:
    also after roles were written without a chat (the sandbox's cast, a restore)."""
    deps = deps_of(app)
    for person_id in sorted({*await admin_svc.people_with_roles(deps),
                             *deps.settings.admin_ids}):
        await sync_commands(app.bot, deps, person_id)


async def start_app(app: Application[Any, Any, Any, Any, Any, Any],
                    poll_timeout: int = 10) -> None:
    """Start without run_polling (which owns the event loop): the sandbox and tests share
    the loop with the emulator."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(timeout=poll_timeout, poll_interval=0.0,
                                    allowed_updates=Update.ALL_TYPES)
    await app.start()


async def stop_app(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
