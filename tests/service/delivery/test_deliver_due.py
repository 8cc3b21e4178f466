"""Delivering the outbox to real local receivers, on both databases: an SMTP sink and a webhook
fake that fails, times out or hangs up as scripted. Time is passed forward (``now``), never
waited for; the only real waits are the webhook client's short timeout."""

from __future__ import annotations

import threading
import unicodedata
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from engine import outbox
from engine.outbox import MAX_ATTEMPTS, Channel, DeliveryState, Draft, OutboxMessage
from service.delivery import Couriers, DeliverySettings, SmtpSettings, WebhookSettings
from service.delivery.worker import deliver_due
from tests.service.delivery.conftest import CLIENT_TIMEOUT, SECRET

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
SUBJECT = "Hồ sơ H1 sắp đến hạn: Đăng ký khai sinh"
BODY = "Kính gửi ông Nguyễn Văn Ánh,\nhồ sơ của ông còn 1 ngày làm việc đến hạn trả kết quả."


def settings(smtp=None, webhook=None, *, budget: float = 60.0, **webhook_options
             ) -> DeliverySettings:
    return DeliverySettings(
        smtp=SmtpSettings(host=smtp.host, port=smtp.port, sender="Một cửa <motcua@xa.gov.vn>",
                          timeout=5) if smtp else SmtpSettings(),
        webhook=WebhookSettings(url=webhook.url, secret=SECRET, timeout=CLIENT_TIMEOUT,
                                **webhook_options) if webhook else WebhookSettings(),
        budget=budget)


def draft(n: int, channel: Channel, recipient: str, *, subject: str = SUBJECT,
          body: str = BODY) -> Draft:
    return Draft(kind="due_soon", channel=channel, recipient=recipient, subject=subject,
                 body=body, dossier_code=f"H{n}", rung="2026-12-08", payload={"n": n})


def write(db_engine, *drafts: Draft) -> list[str]:
    with Session(db_engine) as s:
        outbox.enqueue(s, drafts, at=T0)
        s.commit()
    return [d.key for d in drafts]


def stored(db_engine) -> dict[str, OutboxMessage]:
    with Session(db_engine) as s:
        return {m.key: m for m in s.exec(select(OutboxMessage)).all()}


def run(db_engine, config: DeliverySettings, *, now=T0, worker="w1", couriers=None, **kw):
    couriers = couriers or Couriers(config)
    try:
        return deliver_due(db_engine, worker=worker, now=now, settings=config,
                           couriers=couriers, **kw)
    finally:
        couriers.close()


def test_in_app_messages_are_delivered_and_unconfigured_channels_wait(db_engine):
    bell, mail, hook = write(db_engine, draft(1, Channel.IN_APP, "canbo1"),
                             draft(2, Channel.EMAIL, "dan@example.vn"),
                             draft(3, Channel.WEBHOOK, "portal"))
    report = run(db_engine, settings())
    assert (report.claimed, report.delivered, report.failed) == (1, 1, 0)
    assert set(report.waiting) == {"email", "webhook"}
    rows = stored(db_engine)
    assert rows[bell].state == DeliveryState.DELIVERED
    assert rows[bell].delivered_at is not None
    for key in (mail, hook):  # not claimed, not attempted: they go out once configured
        assert (rows[key].state, rows[key].attempts) == (DeliveryState.PENDING, 0)
    assert rows[mail].last_error == "chưa cấu hình SMTP (MOTCUA_SMTP_HOST)"
    assert rows[hook].last_error == "chưa cấu hình webhook (MOTCUA_WEBHOOK_URL)"


def test_an_email_arrives_with_the_key_as_message_id_and_nfc_vietnamese(db_engine, smtp_sink):
    decomposed = unicodedata.normalize("NFD", SUBJECT)
    (key,) = write(db_engine, draft(1, Channel.EMAIL, "dan@example.vn", subject=decomposed,
                                    body=unicodedata.normalize("NFD", BODY)))
    report = run(db_engine, settings(smtp_sink))
    assert report.delivered == 1
    ((mail_from, rcpt, mail),) = smtp_sink.received
    assert (mail_from, rcpt) == ("motcua@xa.gov.vn", ["dan@example.vn"])
    assert mail["Message-ID"].strip() == f"<{key}@motcua>"  # folded: the line is long
    assert str(mail["Subject"]) == SUBJECT  # NFC, decoded from RFC 2047
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == BODY  # CRLF on the wire
    assert mail["X-MotCua-Dossier"] == "H1"
    assert stored(db_engine)[key].state == DeliveryState.DELIVERED


def test_a_refused_address_is_dead_at_once_and_the_other_emails_go(db_engine, smtp_sink):
    smtp_sink.refuse.add("khong-co@example.vn")
    refused, bad, good = write(db_engine, draft(1, Channel.EMAIL, "khong-co@example.vn"),
                               draft(2, Channel.EMAIL, "không phải địa chỉ"),
                               draft(3, Channel.EMAIL, "dan@example.vn"))
    report = run(db_engine, settings(smtp_sink))
    assert (report.delivered, report.dead, report.retrying) == (1, 2, 0)
    rows = stored(db_engine)
    assert rows[refused].state == rows[bad].state == DeliveryState.DEAD
    assert "550" in rows[refused].last_error
    assert "không hợp lệ" in rows[bad].last_error
    assert rows[good].state == DeliveryState.DELIVERED
    assert [r for _f, r, _m in smtp_sink.received] == [["dan@example.vn"]]


def test_an_unreachable_mail_server_fails_its_emails_and_holds_up_nothing(db_engine,
                                                                         webhook_fake):
    class Down:
        host, port = "127.0.0.1", 9  # nothing listens on the discard port here
    a, b, bell, hook = write(db_engine, draft(1, Channel.EMAIL, "a@example.vn"),
                             draft(2, Channel.EMAIL, "b@example.vn"),
                             draft(3, Channel.IN_APP, "canbo1"),
                             draft(4, Channel.WEBHOOK, "portal"))
    report = run(db_engine, settings(Down(), webhook_fake))
    assert (report.delivered, report.retrying, report.dead) == (2, 2, 0)
    rows = stored(db_engine)
    assert {rows[bell].state, rows[hook].state} == {DeliveryState.DELIVERED}
    for key in (a, b):
        assert rows[key].state == DeliveryState.PENDING and rows[key].attempts == 1
        assert "không kết nối được máy chủ SMTP" in rows[key].last_error
        assert rows[key].next_attempt_at.astimezone(UTC) == T0 + outbox.backoff(1)


def test_a_webhook_is_signed_and_carries_the_message(db_engine, webhook_fake):
    (key,) = write(db_engine, draft(1, Channel.WEBHOOK, "portal"))
    assert run(db_engine, settings(webhook=webhook_fake)).delivered == 1
    assert webhook_fake.bad_signatures == [] and webhook_fake.accepted == {key: 1}
    body = webhook_fake.bodies[key]
    assert body == {"key": key, "kind": "due_soon", "rung": "2026-12-08", "target": "portal",
                    "dossier_code": "H1", "step_seq": None, "subject": SUBJECT, "body": BODY,
                    "payload": {"n": 1}, "created_at": T0.isoformat()}


def test_a_flaky_endpoint_is_retried_until_delivered_and_a_dead_one_holds_up_nothing(
        db_engine, webhook_fake, smtp_sink):
    flaky, dead, fine, mail, bell = write(
        db_engine, draft(1, Channel.WEBHOOK, "portal"), draft(2, Channel.WEBHOOK, "portal"),
        draft(3, Channel.WEBHOOK, "portal"), draft(4, Channel.EMAIL, "dan@example.vn"),
        draft(5, Channel.IN_APP, "canbo1"))
    webhook_fake.scripts[flaky].extend(["500", "timeout", "drop"])
    webhook_fake.always[dead] = "500"
    config = settings(smtp_sink, webhook_fake)

    first = run(db_engine, config)
    assert (first.delivered, first.retrying) == (3, 2)  # the others did not wait
    rows = stored(db_engine)
    assert {rows[k].state for k in (fine, mail, bell)} == {DeliveryState.DELIVERED}

    now, reports = T0, [first]
    while stored(db_engine)[dead].state != DeliveryState.DEAD:
        now += timedelta(hours=1)  # past any backoff
        reports.append(run(db_engine, config, now=now))
        assert len(reports) <= MAX_ATTEMPTS
    rows = stored(db_engine)
    assert rows[flaky].state == DeliveryState.DELIVERED and rows[flaky].attempts == 4
    assert (rows[dead].attempts, rows[dead].last_error) == (MAX_ATTEMPTS,
                                                           "máy nhận trả lời HTTP 500: ")
    assert len(reports) == MAX_ATTEMPTS and reports[-1].dead == 1
    assert webhook_fake.attempts[flaky] == 4 and webhook_fake.attempts[dead] == MAX_ATTEMPTS
    assert webhook_fake.accepted == {flaky: 1, fine: 1}
    assert webhook_fake.duplicates == 0 and webhook_fake.bad_signatures == []
    errors = dict(e for r in reports for e in r.errors if e[0] == flaky)
    assert "trong 0.3 giây" in errors[flaky] or "không kết nối" in errors[flaky]


def test_a_slow_receiver_gives_back_what_it_had_no_time_for(db_engine, webhook_fake):
    keys = write(db_engine, *(draft(n, Channel.WEBHOOK, "portal") for n in range(3)))
    for key in keys:
        webhook_fake.always[key] = "timeout"
    # The first send starts at once and times out after the budget: the other two never start.
    report = run(db_engine, settings(webhook=webhook_fake, budget=CLIENT_TIMEOUT))
    assert (report.retrying, report.released) == (1, 2)
    rows = stored(db_engine)
    untried = [k for k in keys if rows[k].attempts == 0]
    assert len(untried) == 2 and {rows[k].state for k in untried} == {DeliveryState.PENDING}
    assert sum(webhook_fake.attempts.values()) == 1


def test_a_webhook_target_without_a_url_is_dead_at_once(db_engine, webhook_fake):
    config = settings(webhook=webhook_fake)
    config = DeliverySettings(webhook=WebhookSettings(targets=(("portal", webhook_fake.url),),
                                                      secret=SECRET), smtp=config.smtp)
    known, unknown = write(db_engine, draft(1, Channel.WEBHOOK, "portal"),
                           draft(2, Channel.WEBHOOK, "kho-luu-tru"))
    report = run(db_engine, config)
    assert (report.delivered, report.dead) == (1, 1)
    assert "kho-luu-tru" in stored(db_engine)[unknown].last_error
    assert webhook_fake.accepted == {known: 1}


def test_a_worker_whose_lease_was_taken_over_records_nothing(db_engine, webhook_fake):
    """The send outlived the lease: another worker claimed the message meanwhile; the first
    worker's late "delivered" must not overwrite the second's claim."""
    (key,) = write(db_engine, draft(1, Channel.WEBHOOK, "portal"))
    config = settings(webhook=webhook_fake)

    class SlowCouriers(Couriers):
        def open(self, route):
            courier = super().open(route)
            send = courier.send

            def send_late(message):
                with Session(db_engine) as s:
                    outbox.claim(s, worker="w2", now=T0 + timedelta(
                        seconds=outbox.CLAIM_SECONDS + 1))
                    s.commit()
                send(message)
            courier.send = send_late
            return courier

    report = run(db_engine, config, couriers=SlowCouriers(config))
    assert (report.delivered, report.lost) == (0, 1)
    row = stored(db_engine)[key]
    assert (row.state, row.claimed_by, row.attempts) == (DeliveryState.SENDING, "w2", 2)


def test_two_workers_deliver_every_message_exactly_once(db_engine, webhook_fake):
    keys = write(db_engine, *(draft(n, Channel.WEBHOOK, "portal") for n in range(120)),
                 *(draft(n, Channel.IN_APP, "canbo1") for n in range(40)))
    config = settings(webhook=webhook_fake)
    couriers = Couriers(config)
    failures: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while deliver_due(db_engine, worker=name, now=T0, limit=15, settings=config,
                              couriers=couriers).claimed:
                pass
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    couriers.close()
    assert failures == []
    rows = stored(db_engine)
    assert {rows[k].state for k in keys} == {DeliveryState.DELIVERED}
    assert {rows[k].attempts for k in keys} == {1}
    assert len(webhook_fake.accepted) == 120 and webhook_fake.duplicates == 0
    assert {rows[k].claimed_by for k in keys} == {"w1", "w2"}
