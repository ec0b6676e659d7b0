"""Every inline button's data, one typed class per namespace and action (see `callbacks`).

The packed form is exactly the first version's (`st:take:42`, `place:p:3:1`, …), so buttons
already in people's chats and in queued outbox rows keep working. A new button is one class
here (or one enum member) and one line in its feature's dispatch table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.tickets import CloseReason, Kind
from bot.ui.callbacks import CallbackData

# ---------------------------------------------------------------------------- staff and mayors


class CardAction(StrEnum):
    """The buttons of a ticket card that carry only the ticket."""

    SHOW = "show"
    HISTORY = "hist"
    FILES = "files"
    TAKE = "take"
    REPLY = "reply"
    ASK = "ask"
    NOTE = "note"
    TEMPLATES = "tpls"
    TRANSFER = "xfer"
    CLOSE = "close"
    REOPEN = "reopen"


@dataclass(frozen=True)
class CardButton(CallbackData, prefix="st"):
    action: CardAction
    ticket_id: int


@dataclass(frozen=True)
class UseTemplate(CallbackData, prefix="st", action="tpl"):
    ticket_id: int
    template_id: int


@dataclass(frozen=True)
class TransferTo(CallbackData, prefix="st", action="xferto"):
    ticket_id: int
    house: str            # house code from data/houses.csv


@dataclass(frozen=True)
class CloseWith(CallbackData, prefix="st", action="cr"):
    ticket_id: int
    reason: CloseReason


@dataclass(frozen=True)
class QueuePage(CallbackData, prefix="st", action="q"):
    kind: str             # all | mine | unassigned | overdue
    page: int


class NoticeAction(StrEnum):
    SHOW = "show"
    TAKE = "take"


@dataclass(frozen=True)
class NoticeButton(CallbackData, prefix="ticket"):
    """Under an announcement or reminder: open the card, or take the ticket."""

    action: NoticeAction
    ticket_id: int


class MayorAction(StrEnum):
    ROUTE = "route"
    DUPLICATE = "dup"


@dataclass(frozen=True)
class MayorButton(CallbackData, prefix="mb"):
    action: MayorAction
    ticket_id: int


@dataclass(frozen=True)
class RouteTo(CallbackData, prefix="mb", action="routeto"):
    ticket_id: int
    house: str


@dataclass(frozen=True)
class InboxPage(CallbackData, prefix="mb", action="q"):
    kind: str             # inbox
    page: int


# ---------------------------------------------------------------------------- residents


class FormAction(StrEnum):
    CANCEL = "cancel"
    BACK = "back"
    DONE = "done"
    EDIT = "edit"
    URGENT = "urgent"
    NOT_URGENT = "noturgent"


@dataclass(frozen=True)
class FormButton(CallbackData, prefix="new"):
    action: FormAction


@dataclass(frozen=True)
class PickKind(CallbackData, prefix="new", action="kind"):
    kind: Kind


@dataclass(frozen=True)
class PickCategory(CallbackData, prefix="new", action="cat"):
    category_id: int


@dataclass(frozen=True)
class SameSubject(CallbackData, prefix="new", action="dup"):
    ticket_id: int        # 0: a new request after all


@dataclass(frozen=True)
class ConfirmFiling(CallbackData, prefix="new", action="ok"):
    form_id: str          # the form's id, also the filing's idempotency key


@dataclass(frozen=True)
class Provinces(CallbackData, prefix="place", action="pv"):
    page: int = 0


@dataclass(frozen=True)
class Province(CallbackData, prefix="place", action="p"):
    province_id: int
    page: int = 0


@dataclass(frozen=True)
class City(CallbackData, prefix="place", action="c"):
    city_id: int
    page: int = 0


@dataclass(frozen=True)
class PickNeighbourhood(CallbackData, prefix="place", action="n"):
    neighbourhood_id: int


@dataclass(frozen=True)
class PlaceCancel(CallbackData, prefix="place", action="x"):
    pass


class MyAction(StrEnum):
    OPEN = "open"
    WITHDRAW = "wd"
    WITHDRAW_YES = "wdyes"
    FOLLOW = "follow"


@dataclass(frozen=True)
class MyTicket(CallbackData, prefix="my"):
    action: MyAction
    ticket_id: int


@dataclass(frozen=True)
class MyList(CallbackData, prefix="my", action="list"):
    page: int = 0


@dataclass(frozen=True)
class Rate(CallbackData, prefix="rate", action="s"):
    ticket_id: int
    stars: int


class RateAction(StrEnum):
    NOT_RESOLVED = "bad"
    SKIP = "skip"


@dataclass(frozen=True)
class RateButton(CallbackData, prefix="rate"):
    action: RateAction
    ticket_id: int


@dataclass(frozen=True)
class Consent(CallbackData, prefix="consent", action="yes"):
    pass


@dataclass(frozen=True)
class SetLanguage(CallbackData, prefix="lang", action="set"):
    locale: str


@dataclass(frozen=True)
class ConsentDecline(CallbackData, prefix="consent", action="no"):
    """«No, thanks» under the consent: the help and the programme's contacts, nothing kept."""


class ForgetAction(StrEnum):
    YES = "yes"
    NO = "no"


@dataclass(frozen=True)
class ForgetMe(CallbackData, prefix="forget"):
    """/forget_me's confirmation."""

    action: ForgetAction


# ---------------------------------------------------------------------------- field visits


class VisitAction(StrEnum):
    NOW = "now"           # the visit is held now
    NEW = "new"           # file for the next person
    NO_PHONE = "nophone"
    DROP = "drop"         # drop the request being written
    END = "end"           # end the visit


@dataclass(frozen=True)
class VisitButton(CallbackData, prefix="vis"):
    action: VisitAction


@dataclass(frozen=True)
class VisitPlace(CallbackData, prefix="vis", action="n"):
    neighbourhood_id: int


@dataclass(frozen=True)
class VisitKind(CallbackData, prefix="vis", action="kind"):
    kind: Kind


@dataclass(frozen=True)
class VisitCategory(CallbackData, prefix="vis", action="cat"):
    category_id: int


@dataclass(frozen=True)
class VisitFile(CallbackData, prefix="vis", action="ok"):
    draft_id: str         # the request's draft id, also the filing's idempotency key
