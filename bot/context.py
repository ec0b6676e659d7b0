"""CustomContext: typed access to dependencies and to who is writing (PTB contexttypesbot)."""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.deps import Deps
from bot.domain.models import Person, Role
from bot.i18n import Translator, translator


class CustomContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any],
                                    dict[Any, Any]]):
    """Filled by `handlers.common.prepare` before any feature handler runs."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any],
                 chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.person: Person | None = None
        self.roles: list[Role] = []
        self._tr: Translator | None = None

    @property
    def deps(self) -> Deps:
        return cast(Deps, self.application.bot_data["deps"])

    @property
    def tr(self) -> Translator:
        if self._tr is None:
            self._tr = translator(self.deps.settings.default_locale)
        return self._tr

    @tr.setter
    def tr(self, value: Translator) -> None:
        self._tr = value

    def has_role(self, *names: str) -> bool:
        return any(r.role in names for r in self.roles)
