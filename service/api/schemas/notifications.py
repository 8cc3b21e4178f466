"""What ``/api/v1/notifications`` (the bell) and ``/api/v1/admin/deliveries`` answer."""

from __future__ import annotations

from service.api.schemas.common import Instant, Public


class Notification(Public):
    """One in-app message delivered to me; ``link`` opens its dossier."""

    id: int
    kind: str
    kind_label: str
    subject: str
    body: str
    dossier: str | None
    link: str | None
    created_at: Instant
    delivered_at: Instant | None
    read_at: Instant | None
    read: bool


class NotificationPage(Public):
    """My messages, newest first; ``next`` is the ``before`` cursor of the following page;
    ``unread`` counts all my unread messages (for the bell's badge)."""

    items: list[Notification]
    next: int | None
    unread: int


class UnreadCount(Public):
    unread: int


class MarkedRead(Public):
    """How many messages a "mark all read" changed, and what is left unread (0)."""

    marked: int
    unread: int


class Delivery(Public):
    """An outbox message as an administrator sees it: no body, a citizen's address masked."""

    id: int
    kind: str
    kind_label: str
    channel: str
    channel_label: str
    recipient: str
    dossier: str | None
    subject: str
    state: str
    state_label: str
    attempts: int
    last_error: str | None
    created_at: Instant
    next_attempt_at: Instant
    delivered_at: Instant | None


class DeliveryPage(Public):
    """Deliveries newest first; ``next`` is the ``before`` cursor of the following page."""

    items: list[Delivery]
    next: int | None
