"""The e-mail channel (*thư điện tử*): one SMTP connection per batch, one message per recipient.

The outbox key travels as ``Message-ID: <key@motcua>``, so a message sent twice (a worker that
died after the server accepted it but before recording it) is one message to any mail client
that threads or deduplicates by id. Subject and body are NFC UTF-8; the standard library's
``email`` package encodes the Vietnamese subject (RFC 2047) and body for 7-bit servers.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from service.delivery.message import DeliveryError, Outgoing
from service.delivery.settings import SmtpSettings

MESSAGE_ID_DOMAIN = "motcua"


def message_id(key: str) -> str:
    return f"<{key}@{MESSAGE_ID_DOMAIN}>"


def _one_line(text: str) -> str:
    """Headers may not contain line breaks (header injection); a subject is one line."""
    return " ".join(text.split())


def check_address(address: str) -> str:
    """A plain ``name@domain`` address, or a permanent failure: no retry fixes a bad address."""
    parsed = parseaddr(address)[1]
    if ("\r" in address or "\n" in address or not parsed or "@" not in parsed
            or parsed.startswith("@") or parsed.endswith("@")):
        raise DeliveryError(f"địa chỉ thư không hợp lệ: {address!r}", permanent=True)
    return parsed


def build_email(message: Outgoing, *, sender: str, sent_at: datetime | None = None
                ) -> EmailMessage:
    """The e-mail for ``message``; ``sent_at`` is the Date header (the real clock by default)."""
    mail = EmailMessage()
    mail["Subject"] = _one_line(message.subject)
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Message-ID"] = message_id(message.key)
    mail["Date"] = format_datetime(sent_at or datetime.now(UTC))
    mail["X-MotCua-Kind"] = message.kind
    if message.dossier_code:
        mail["X-MotCua-Dossier"] = message.dossier_code
    mail.set_content(message.body, charset="utf-8", cte="quoted-printable")
    for item in message.attachments:  # the apology's Mẫu 04 as PDF
        maintype, _, subtype = item.media_type.partition("/")
        mail.add_attachment(item.content, maintype=maintype, subtype=subtype,
                            filename=item.filename)
    return mail


class SmtpCourier:
    """Sends one batch of e-mails over one connection, opened at the first message.

    If the server cannot be reached, every remaining e-mail of the batch fails with the same
    reason at once (each is one attempt: the server was down when it was due) instead of each
    waiting out its own connection timeout, which would stall the batch past its lease.
    """

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: str | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.ssl:
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            self._unreachable = f"máy chủ SMTP từ chối đăng nhập ({exc.smtp_code})"
            raise DeliveryError(self._unreachable) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._unreachable = f"không kết nối được máy chủ SMTP {s.host}:{s.port}: {exc}"
            raise DeliveryError(self._unreachable) from exc
        return smtp

    def send(self, message: Outgoing) -> None:
        address = check_address(message.recipient)
        if self._unreachable:
            raise DeliveryError(self._unreachable)
        mail = build_email(message, sender=self.settings.sender)
        for again in (False, True):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._smtp.send_message(mail, from_addr=parseaddr(self.settings.sender)[1],
                                        to_addrs=[address])
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None  # dropped between messages: reconnect once
                if again:
                    raise DeliveryError(f"máy chủ SMTP ngắt kết nối: {exc}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                raise DeliveryError(f"máy chủ SMTP từ chối người nhận ({code}): "
                                    f"{_decode(text)}", permanent=code >= 500) from exc
            except smtplib.SMTPResponseException as exc:
                raise DeliveryError(f"máy chủ SMTP trả lời {exc.smtp_code}: "
                                    f"{_decode(exc.smtp_error)}") from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._smtp = None
                raise DeliveryError(f"lỗi gửi thư: {exc}") from exc

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
