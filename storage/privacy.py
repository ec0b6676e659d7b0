"""Erasing personal data: a request anonymised (retention, /forget_me) and a resident
forgotten. What stays is what statistics need: category, house, neighbourhood, dates,
status, outcome and rating."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Ticket
from storage import dialect
from storage.base import fetch_all, iso, to_models
from storage.conn import Conn


async def closed_before(conn: Conn, before: datetime, limit: int) -> list[int]:
    """Ids of closed, not yet anonymised requests closed before `before` (oldest first)."""
    rows = await fetch_all(conn, """
        SELECT id FROM tickets WHERE anonymised_at IS NULL AND closed_at IS NOT NULL
        AND closed_at < ? ORDER BY closed_at LIMIT ?""", (iso(before), limit))
    return [int(r["id"]) for r in rows]


# A request filed at a field visit and not claimed yet has its filer as resident: it is
# someone else's, so the filer's /forget_me leaves it alone.
_OWN = """t.resident_id = ? AND NOT EXISTS (SELECT 1 FROM visit_requests v
          WHERE v.ticket_id = t.id AND v.claimed_by IS NULL)"""


async def own_requests(conn: Conn, resident_id: int) -> list[Ticket]:
    """The person's own requests (newest first), without those they filed for others."""
    return to_models(Ticket, await fetch_all(
        conn, f"SELECT t.* FROM tickets t WHERE {_OWN} ORDER BY t.created_at DESC, t.id DESC",
        (resident_id,)))


async def by_resident(conn: Conn, resident_id: int) -> list[int]:
    """Ids of the person's own requests that still hold personal data."""
    rows = await fetch_all(conn, f"SELECT t.id FROM tickets t WHERE {_OWN} "
                                 "AND t.anonymised_at IS NULL", (resident_id,))
    return [int(r["id"]) for r in rows]


async def anonymise_ticket(conn: Conn, ticket_id: int, now: datetime) -> None:
    """Text, phone, location, rating comment, every message's words and every file of the
    request are removed, also from the search index and from delivered notifications."""
    await dialect.forget_indexed_text(conn, ticket_id)
    await conn.execute("""
        UPDATE tickets SET text = '', phone = NULL, lat = NULL, lon = NULL,
               rating_comment = NULL, anonymised_at = ?, updated_at = ?
        WHERE id = ?""", (iso(now), iso(now), ticket_id))
    await conn.execute("UPDATE ticket_events SET body = NULL WHERE ticket_id = ?", (ticket_id,))
    await conn.execute("DELETE FROM ticket_attachments WHERE ticket_id = ?", (ticket_id,))
    # Filed at a field visit: the name and phone of the person it was filed for.
    await conn.execute("UPDATE visit_requests SET name = '', phone = NULL, "
                       "handover_token = NULL WHERE ticket_id = ?", (ticket_id,))
    await conn.execute("DELETE FROM outbox WHERE ticket_id = ? AND status IN ('sent', 'failed')",
                       (ticket_id,))


async def forget_person(conn: Conn, person_id: int, now: datetime, *,
                        keep_name: bool) -> None:
    """The person's phone, consent and filing form go; their name too unless they hold a role
    (colleagues see it on cards)."""
    await conn.execute("DELETE FROM forms WHERE person_id = ?", (person_id,))
    if keep_name:
        await conn.execute("UPDATE people SET phone = NULL, consent_at = NULL, updated_at = ? "
                           "WHERE id = ?", (iso(now), person_id))
    else:
        await conn.execute("""
            UPDATE people SET first_name = '', username = NULL, phone = NULL,
                   consent_at = NULL, neighbourhood_id = NULL, updated_at = ?
            WHERE id = ?""", (iso(now), person_id))


async def forget_residents_without_requests(conn: Conn, ticket_ids: list[int],
                                            now: datetime) -> None:
    """After retention: residents of these requests who have no request with personal data
    left and no role lose their name too."""
    if not ticket_ids:
        return
    marks = ",".join("?" * len(ticket_ids))
    await conn.execute(f"""
        UPDATE people SET first_name = '', username = NULL, phone = NULL, updated_at = ?
        WHERE id IN (SELECT resident_id FROM tickets WHERE id IN ({marks}))
          AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.resident_id = people.id
                          AND t.anonymised_at IS NULL)
          AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.person_id = people.id
                          AND r.revoked_at IS NULL)""", (iso(now), *ticket_ids))
