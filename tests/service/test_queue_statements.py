"""The work queue's page costs the same number of SQL statements whatever its size: what
each item shows (its urgency badge on its agency's calendar, its current step's name from its
procedure version) is read once per page, not once per dossier. At 1M dossiers a statement
per item was most of the inbox's time (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import event
from sqlmodel import Session

from engine.lifecycle import Actor, Applicant, receive
from engine.procedures import version_in_force
from engine.timezone import VN_TZ

from .conftest import login

CLERK = Actor(id="clerk", role="clerk", agency="000.01.31.H26", name="Nguyễn Thị Lan")
# Procedures of several versions and steps, so that a per-version read would show.
PROCEDURES = ("1.000656", "1.000894", "2.000635", "1.004873")


def receive_many(client, count: int) -> None:
    """``count`` dossiers received by the demo clerk now, over :data:`PROCEDURES`."""
    at = datetime.now(VN_TZ)
    with Session(client.app.state.engine) as session:
        for n in range(count):
            spec = version_in_force(session, code=PROCEDURES[n % len(PROCEDURES)],
                                    on=at.date())
            components = [{"name": c.name, "originals": c.originals, "copies": c.copies}
                          for c in spec.components]
            receive(session, actor=CLERK, procedure_code=spec.code, components=components,
                    applicant=Applicant(name=f"Trần Văn Bình {n}"), at=at)
            session.commit()


@contextmanager
def statements(engine) -> Iterator[list[str]]:
    """The SQL statements sent on ``engine`` inside the block."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_queue_page_of_ten_sends_as_many_statements_as_a_page_of_two(client):
    receive_many(client, 12)
    clerk = login(client, "clerk")
    counts, pages = {}, {}
    for limit in (2, 10):
        with statements(client.app.state.engine) as sent:
            response = client.get("/api/v1/dossiers", params={"limit": limit}, headers=clerk)
        assert response.status_code == 200, response.text
        counts[limit], pages[limit] = len(sent), response.json()["items"]
    assert [len(pages[2]), len(pages[10])] == [2, 10]
    # The page shows what the per-item reads used to give: each step's name, each badge.
    assert all(item["current_step_name"] for item in pages[10])
    assert len({item["procedure"]["code"] for item in pages[10]}) == len(PROCEDURES)
    assert counts[10] == counts[2], (counts, "statements per page grow with its size")
    # the signed-in user, the page, then its total, calendars and versions together
    # (``worklist.page_facts``); PostgreSQL's estimate only past the count's bound
    assert counts[10] == 3, counts
