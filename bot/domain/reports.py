"""What a report says, as plain data (figures come from SQL aggregates, never from rows).

Definitions (requests count in a period by their filing time; "open" and "overdue" are as of
now, for those requests):
- answered: has a first public answer in its current window;
- in time: answered no later than its own deadline (`due_at`, which pauses extend); the
  share is over the requests that can be judged: answered ones and open ones already past
  their deadline without an answer (a request closed without an answer, e.g. withdrawn, and
  one still within its window are not judged);
- first-response time: first answer minus the start of its window, on the ticket's own clock
  (office time for an office-time window); the median is SQL's when every answered request in
  scope ran on the wall clock, else computed from the streamed (start, answer) pairs;
- from field visits: filed at a field visit (`visit_requests`);
- reopened: reopened at least once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.domain.periods import Period
from bot.domain.tickets import CloseReason

# The close reasons in the order reports list them; "" collects rows without a reason.
OUTCOMES: tuple[str, ...] = tuple(r.value for r in CloseReason)


@dataclass(frozen=True)
class Name:
    code: str
    name_fa: str
    name_en: str


@dataclass
class Figures:
    """The figures of one group (a house in a neighbourhood, a house, or the whole scope)."""

    received: int = 0
    answered: int = 0
    open: int = 0
    overdue: int = 0
    closed: dict[str, int] = field(default_factory=dict)   # close reason -> count
    judged: int = 0
    in_time: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    reopened: int = 0
    median_first_response_s: float | None = None
    office_answered: int = 0        # answered on an office-time window (median from Python)
    from_visits: int = 0            # filed at field visits

    @property
    def closed_total(self) -> int:
        return sum(self.closed.values())

    @property
    def in_time_share(self) -> float | None:
        return self.in_time / self.judged if self.judged else None

    @property
    def rating_average(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    @property
    def reopened_share(self) -> float | None:
        return self.reopened / self.received if self.received else None

    def add(self, other: Figures) -> None:
        """Sum the counters (not the median: that comes from SQL for each level)."""
        self.received += other.received
        self.answered += other.answered
        self.open += other.open
        self.overdue += other.overdue
        for reason, n in other.closed.items():
            self.closed[reason] = self.closed.get(reason, 0) + n
        self.judged += other.judged
        self.in_time += other.in_time
        self.rating_sum += other.rating_sum
        self.rating_count += other.rating_count
        self.reopened += other.reopened
        self.office_answered += other.office_answered
        self.from_visits += other.from_visits


@dataclass
class AreaStats:
    """One house in one neighbourhood."""

    house: Name
    neighbourhood: Name
    figures: Figures


@dataclass
class HouseStats:
    house: Name
    figures: Figures
    areas: list[AreaStats] = field(default_factory=list)


@dataclass
class WeekSeries:
    """Requests per Jalali week (Saturday first) by house, and the in-time share per week."""

    weeks: list[date]                              # local Saturdays, oldest first
    counts: dict[str, list[int]]                   # house code -> count per week
    houses: dict[str, Name]
    in_time: list[float | None]                    # share per filing week (None: nothing judged)


@dataclass
class StatsReport:
    period: Period
    houses: list[HouseStats]
    total: Figures
    weekly: WeekSeries | None = None

    @property
    def empty(self) -> bool:
        return self.total.received == 0
