"""The channels without a database: settings from the environment, the webhook signature (and
the receiver's check printed in docs/notifications.md), the e-mail's headers."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.outbox import Channel
from service.delivery import DeliveryError, DeliverySettings, Outgoing
from service.delivery.mail import build_email, check_address
from service.delivery.webhook import body_of, headers_for, verify

DOCS = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"
SECRET = "bí-mật"


def outgoing(**changes) -> Outgoing:
    values = dict(id=1, key="ab" * 32, kind="received", rung="event-1", channel="webhook",
                  recipient="sms:0912345678", dossier_code="H1", step_seq=None,
                  subject="Đã tiếp nhận hồ sơ H1", body="Ngày hẹn trả: 10/12/2026.",
                  payload={"hẹn": "10/12/2026"}, created_at=datetime(2026, 12, 7, tzinfo=UTC),
                  attempt=1)
    return Outgoing(**{**values, **changes})


def test_nothing_configured_means_email_and_webhook_wait():
    settings = DeliverySettings.from_env({})
    assert settings.waiting() == {Channel.EMAIL: "chưa cấu hình SMTP (MOTCUA_SMTP_HOST)",
                                  Channel.WEBHOOK: "chưa cấu hình webhook (MOTCUA_WEBHOOK_URL)"}


def test_settings_come_from_the_environment():
    settings = DeliverySettings.from_env({
        "MOTCUA_SMTP_HOST": "mail.xa.gov.vn", "MOTCUA_SMTP_PORT": "587",
        "MOTCUA_SMTP_STARTTLS": "true", "MOTCUA_SMTP_FROM": "motcua@xa.gov.vn",
        "MOTCUA_SMTP_USER": "motcua", "MOTCUA_SMTP_PASSWORD": "mat-khau-thu",
        "MOTCUA_WEBHOOK_URL": "https://default.example/hook",
        "MOTCUA_WEBHOOK_SECRET": "khoa-ky-rieng",
        "MOTCUA_WEBHOOK_TARGETS": "portal = https://portal.example/in, sms=https://sms.example",
        "MOTCUA_WEBHOOK_TIMEOUT": "2.5", "MOTCUA_DELIVERY_BUDGET": "30"})
    assert settings.waiting() == {}
    smtp, hook = settings.smtp, settings.webhook
    assert (smtp.port, smtp.starttls, smtp.ssl, smtp.user) == (587, True, False, "motcua")
    assert "mat-khau-thu" not in repr(settings) and "khoa-ky-rieng" not in repr(settings)
    assert (hook.timeout, settings.budget) == (2.5, 30)
    assert hook.url_for("portal") == "https://portal.example/in"
    assert hook.url_for("sms:0912345678") == "https://sms.example"
    assert hook.url_for("kho") == "https://default.example/hook"


def test_a_webhook_without_a_secret_waits_rather_than_send_unsigned():
    settings = DeliverySettings.from_env({"MOTCUA_WEBHOOK_URL": "https://x.example"})
    assert settings.waiting()[Channel.WEBHOOK] == (
        "chưa cấu hình khoá ký webhook (MOTCUA_WEBHOOK_SECRET)")


@pytest.mark.parametrize("env", [{"MOTCUA_SMTP_PORT": "hai mươi lăm"},
                                 {"MOTCUA_WEBHOOK_TIMEOUT": "0"},
                                 {"MOTCUA_WEBHOOK_TARGETS": "portal"}])
def test_a_malformed_setting_is_refused_with_its_name(env):
    with pytest.raises(ValueError, match=next(iter(env))):
        DeliverySettings.from_env(env)


def test_the_signature_covers_timestamp_and_body_and_expires():
    message = outgoing()
    body = body_of(message)
    headers = headers_for(message, body, SECRET, now=1_800_000_000)
    timestamp, signed = headers["X-MotCua-Timestamp"], headers["X-MotCua-Signature"]
    assert headers["Idempotency-Key"] == message.key and signed.startswith("sha256=")
    assert verify(SECRET, timestamp, body, signed, now=1_800_000_100)
    assert not verify(SECRET, timestamp, body + b" ", signed, now=1_800_000_100)
    assert not verify("khác", timestamp, body, signed, now=1_800_000_100)
    assert not verify(SECRET, "1800000001", body, signed, now=1_800_000_100)
    assert not verify(SECRET, timestamp, body, signed, now=1_800_000_301)  # too old
    assert not verify(SECRET, "không-phải-số", body, signed)


def test_the_webhook_body_is_the_same_bytes_for_the_same_message():
    assert body_of(outgoing()) == body_of(outgoing(attempt=5))
    assert "Đã tiếp nhận".encode() in body_of(outgoing())  # UTF-8, not \\u escapes


def test_the_receivers_check_in_the_docs_accepts_a_real_request_and_nothing_else():
    section = DOCS.read_text(encoding="utf-8").split("## Delivery and channels", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)
    check = namespace["motcua_request_is_genuine"]
    body = body_of(outgoing())
    headers = headers_for(outgoing(), body, SECRET)
    assert check(SECRET, headers, body)
    assert not check(SECRET, headers, body.replace(b"H1", b"H2"))
    assert not check(SECRET, {**headers, "X-MotCua-Timestamp": str(int(time.time()) - 301)},
                     body)


def test_an_email_subject_is_one_line_whatever_it_holds():
    mail = build_email(outgoing(channel="email", recipient="dan@example.vn",
                                subject="Hồ sơ H1\r\nBcc: ke-gian@example.vn"),
                       sender="motcua@xa.gov.vn")
    assert "Bcc" not in mail and mail["Subject"] == "Hồ sơ H1 Bcc: ke-gian@example.vn"


@pytest.mark.parametrize("address", ["", "không phải địa chỉ", "@example.vn", "dan@",
                                     "dan@example.vn\r\nBcc: x@y.vn"])
def test_a_bad_address_is_a_permanent_failure(address):
    with pytest.raises(DeliveryError) as raised:
        check_address(address)
    assert raised.value.permanent


def test_a_named_address_is_accepted():
    assert check_address("Nguyễn Văn Ánh <anh@example.vn>") == "anh@example.vn"
