"""A real ``motcua scheduler`` process on PostgreSQL pushes the portal records of 30 dossiers to a
slow fake portal and is killed with SIGKILL in the middle of a batch; a second process started
afterwards finishes. The portal ends with each state change exactly once (its set of keys is
the expected set, each record kept once) and, per dossier, in the order of the changes.

Delivery is at-least-once: a record the portal accepted just before the kill, whose delivery
the dead process never recorded, is sent again once its claim expires
(``engine.outbox.CLAIM_SECONDS``) — with the same ``Idempotency-Key``, which the portal keeps
once (docs/sync.md, "Outbound"). The test counts such repeats and requires that no record
arrived before an earlier one of its dossier, repeats included.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from engine.db import make_engine
from engine.samples import local, processed_to, seed_world
from engine.sync import outbound
from tests.service.sync.conftest import KEY_ID, SECRET, FakePortal

EXE = shutil.which("motcua", path=str(Path(sys.executable).parent)) or "motcua"
DOSSIERS = 30
#: Records per dossier along the standard path: receive, transfer, finish, return (the
#: forward keeps the state and sends nothing).
SEQS = [1, 2, 4, 5]


@pytest.fixture
def schema_url(postgres_admin):
    from engine.migrate import upgrade
    from tests.conftest import drop_schema, new_schema

    schema, url = new_schema(postgres_admin)
    upgrade(url)
    yield url
    drop_schema(postgres_admin, schema)


def make_dossiers(url: str) -> list[str]:
    engine = make_engine(url)
    outbound.install(engine)
    try:
        with Session(engine) as session:
            seed_world(session)
            session.commit()
            return [processed_to(session, "returned",
                                 at=local("2025-03-03T08:00") + timedelta(minutes=i)).code
                    for i in range(DOSSIERS)]
    finally:
        outbound.uninstall(engine)
        engine.dispose()


def count(url_engine, sql: str, **params) -> int:
    with url_engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def wait_until(condition: Callable[[], object], timeout: float, what: str,
               process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the scheduler ended ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def start(url: str, portal: FakePortal, log: Path) -> subprocess.Popen:
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_PORTAL_URL": portal.url,
           "MOTCUA_PORTAL_KEY_ID": KEY_ID, "MOTCUA_PORTAL_SECRET": SECRET,
           "MOTCUA_DELIVER_SECONDS": "1", "MOTCUA_DB_WAIT_SECONDS": "10"}
    with log.open("w") as out:
        return subprocess.Popen([EXE, "scheduler"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=log.parent)


def test_a_scheduler_killed_mid_push_leaves_each_change_once_and_in_order(
        schema_url, portal, tmp_path):
    codes = make_dossiers(schema_url)
    expected = {f"portal:{code}:{seq}" for code in codes for seq in SEQS}
    db = make_engine(schema_url)
    portal_rows = "SELECT count(*) FROM outbox_message WHERE channel = 'portal'"
    assert count(db, portal_rows) == len(expected)
    portal.delay = 0.05  # a slow portal: a batch of 30 takes 1.5 s to send

    first = start(schema_url, portal, tmp_path / "first.log")
    try:
        wait_until(lambda: len(portal.keys) >= 40 and count(
            db, portal_rows + " AND state = 'sending' AND claimed_by LIKE :pid",
            pid=f"%:{first.pid}:%") > 0, 120, "the scheduler to be mid-push", first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        before_kill = len(portal.keys)
        stranded = count(db, portal_rows + " AND state = 'sending'")
        assert 0 < before_kill < len(expected) and stranded > 0  # the kill cut a batch

        second = start(schema_url, portal, tmp_path / "second.log")
        try:
            # the dead process's claims expire after CLAIM_SECONDS (120 s), then go again
            wait_until(lambda: count(db, portal_rows + " AND state = 'delivered'")
                       == len(expected), 300, "every record to be delivered", second)
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0
        finally:
            if second.poll() is None:
                second.kill()
                second.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        db.dispose()

    assert portal.keys == expected  # each change reached the portal ...
    assert len(portal.accepted) == len(expected)  # ... and is kept there once
    assert portal.bad == []
    for code in codes:  # in order per dossier, repeats included
        arrived = [int(k.rsplit(":", 1)[1]) for k in portal.arrivals if k.split(":")[1] == code]
        assert list(dict.fromkeys(arrived)) == SEQS, (code, arrived)
        assert arrived == sorted(arrived), (code, arrived)  # a repeat never came after a later
    repeats = sum(n - 1 for n in portal.seen.values())
    print(f"\n{len(expected)} records, {before_kill} accepted before the kill, {stranded} "
          f"stranded in the dead process's claims, {repeats} sent twice (deduplicated)")
