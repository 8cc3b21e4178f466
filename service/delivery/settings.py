"""Delivery settings, read from the environment (``MOTCUA_SMTP_*``, ``MOTCUA_WEBHOOK_*``,
``MOTCUA_DELIVERY_*``); docs/notifications.md, "Delivery and channels", lists them.

A channel that is not configured is *waiting*, not failing: its messages stay pending, are not
claimed, and carry the reason ("chưa cấu hình SMTP") for the administrators' list; they go
out once the channel is configured. Failing them would turn every message of an office that
has no mail server into a dead letter, and retrying them would only burn their attempts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.outbox import Channel
from engine.settings import positive_number

TRUE = frozenset({"1", "true", "yes", "on"})
#: Seconds a batch may spend sending before it gives the rest back untried; well inside the
#: claim's lease (engine.outbox.CLAIM_SECONDS = 120), so no other worker takes a message over
#: while it is still being sent.
DEFAULT_BUDGET = 60.0


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(name, "").strip() or default


def _flag(env: Mapping[str, str], name: str) -> bool:
    return _text(env, name).lower() in TRUE


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The mail server e-mail messages go through (*máy chủ thư*)."""

    host: str = ""
    port: int = 25
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""  # the From address, e.g. "Bộ phận một cửa <motcua@xa.gov.vn>"
    starttls: bool = False  # upgrade a plain connection (port 587)
    ssl: bool = False  # TLS from the first byte (port 465)
    timeout: float = 10.0  # seconds per network operation

    @property
    def waiting_reason(self) -> str | None:
        """Why e-mail cannot go out yet (None: it can)."""
        if not self.host:
            return "chưa cấu hình SMTP (MOTCUA_SMTP_HOST)"
        if not self.sender:
            return "chưa cấu hình địa chỉ gửi thư (MOTCUA_SMTP_FROM)"
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SmtpSettings:
        ssl = _flag(env, "MOTCUA_SMTP_SSL")
        return cls(host=_text(env, "MOTCUA_SMTP_HOST"),
                   port=int(positive_number(env, "MOTCUA_SMTP_PORT", 465 if ssl else 25)),
                   user=_text(env, "MOTCUA_SMTP_USER"),
                   password=env.get("MOTCUA_SMTP_PASSWORD", ""),
                   sender=_text(env, "MOTCUA_SMTP_FROM"),
                   starttls=_flag(env, "MOTCUA_SMTP_STARTTLS"), ssl=ssl,
                   timeout=positive_number(env, "MOTCUA_SMTP_TIMEOUT", 10.0))


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """Where webhook messages are POSTed and the secret that signs them.

    A webhook message's recipient is a *target*: a name (``portal``) or a name and an address
    (``sms:0912345678``, the applicant's phone for an SMS gateway). ``MOTCUA_WEBHOOK_TARGETS``
    maps names to URLs (``portal=https://…,sms=https://…``): the whole target first, then its
    name before ":"; ``MOTCUA_WEBHOOK_URL`` receives every target not named there.
    """

    url: str = ""
    targets: tuple[tuple[str, str], ...] = ()
    secret: str = field(default="", repr=False)
    timeout: float = 5.0

    def url_for(self, target: str) -> str | None:
        named = dict(self.targets)
        return named.get(target) or named.get(target.partition(":")[0]) or self.url or None

    @property
    def waiting_reason(self) -> str | None:
        if not self.url and not self.targets:
            return "chưa cấu hình webhook (MOTCUA_WEBHOOK_URL)"
        if not self.secret:
            return "chưa cấu hình khoá ký webhook (MOTCUA_WEBHOOK_SECRET)"
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> WebhookSettings:
        pairs = []
        for item in _text(env, "MOTCUA_WEBHOOK_TARGETS").split(","):
            if item.strip():
                name, sep, url = item.partition("=")
                if not sep or not name.strip() or not url.strip():
                    raise ValueError("MOTCUA_WEBHOOK_TARGETS: cần dạng tên=URL,tên=URL, "
                                     f"không phải {item.strip()!r}")
                pairs.append((name.strip(), url.strip()))
        return cls(url=_text(env, "MOTCUA_WEBHOOK_URL"), targets=tuple(pairs),
                   secret=env.get("MOTCUA_WEBHOOK_SECRET", ""),
                   timeout=positive_number(env, "MOTCUA_WEBHOOK_TIMEOUT", 5.0))


@dataclass(frozen=True, slots=True)
class PortalSettings:
    """The national portal's sync endpoint (*Cổng Dịch vụ công quốc gia*; docs/sync.md,
    "Outbound"): where records are POSTed, the key id the portal knows us by, and the secret
    that signs them. ``MOTCUA_PORTAL_URL`` unset: the sync is off and nothing is written."""

    url: str = ""
    key_id: str = ""
    secret: str = field(default="", repr=False)
    timeout: float = 10.0

    @property
    def waiting_reason(self) -> str | None:
        if not self.url:
            return "chưa cấu hình Cổng DVC quốc gia (MOTCUA_PORTAL_URL)"
        if not self.secret:
            return "chưa cấu hình khoá ký Cổng DVC quốc gia (MOTCUA_PORTAL_SECRET)"
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PortalSettings:
        return cls(url=_text(env, "MOTCUA_PORTAL_URL"), key_id=_text(env, "MOTCUA_PORTAL_KEY_ID"),
                   secret=env.get("MOTCUA_PORTAL_SECRET", ""),
                   timeout=positive_number(env, "MOTCUA_PORTAL_TIMEOUT", 10.0))


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    smtp: SmtpSettings = SmtpSettings()
    webhook: WebhookSettings = WebhookSettings()
    budget: float = DEFAULT_BUDGET  # MOTCUA_DELIVERY_BUDGET, seconds
    portal: PortalSettings = PortalSettings()

    def waiting(self) -> dict[Channel, str]:
        """The channels that cannot send yet, with the reason (in-app always can). The portal
        without its URL is *off* (:meth:`off`), not waiting: nothing is written for it."""
        reasons = {Channel.EMAIL: self.smtp.waiting_reason,
                   Channel.WEBHOOK: self.webhook.waiting_reason,
                   Channel.PORTAL: self.portal.waiting_reason if self.portal.url else None}
        return {channel: reason for channel, reason in reasons.items() if reason}

    def off(self) -> frozenset[Channel]:
        """Channels switched off: never claimed, and no reason stamped (records written
        before the portal's URL was unset stay pending, counted by ``motcua sync status``)."""
        return frozenset() if self.portal.url else frozenset({Channel.PORTAL})

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> DeliverySettings:
        return cls(smtp=SmtpSettings.from_env(env), webhook=WebhookSettings.from_env(env),
                   budget=positive_number(env, "MOTCUA_DELIVERY_BUDGET", DEFAULT_BUDGET),
                   portal=PortalSettings.from_env(env))
