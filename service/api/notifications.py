"""The bell (``/api/v1/notifications``): my in-app messages, the unread count, marking read;
and the administrators' list of deliveries (``/api/v1/admin/deliveries``) with a retry.

Everyone signed in has a bell; it shows only one's own messages (``engine.timed.bell``), and
another person's message id is 404 like an id that does not exist. Administrators see every
delivery but never a message's body, and a citizen's address masked
(``engine.timed.recipients.mask``): an administrator sees no personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlmodel import col, select

from engine.outbox import Channel, DeliveryState, OutboxMessage, retry_dead
from engine.timed import bell
from engine.timed.messages import kind_label
from engine.timed.recipients import mask
from engine.timezone import to_local
from engine.users import Role, User
from service.api.schemas.notifications import (
    Delivery,
    DeliveryPage,
    MarkedRead,
    Notification,
    NotificationPage,
    UnreadCount,
)
from service.deps import CurrentUser, SessionDep, now, require_roles
from service.problems import Problem

router = APIRouter(tags=["notifications"])
#: Message ids are the outbox's integer key (32-bit on both databases).
MAX_ID = 2**31 - 1
MessageId = Annotated[int, Path(ge=1, le=MAX_ID)]
Cursor = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Con trỏ: id")]
Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]


def _iso(value: datetime | None) -> str | None:
    return to_local(value).isoformat() if value is not None else None


def notification_json(row: OutboxMessage) -> Notification:
    link = (row.payload or {}).get("link")
    return Notification(id=row.id, kind=row.kind, kind_label=kind_label(row.kind),
                        subject=row.subject, body=row.body, dossier=row.dossier_code,
                        link=link if isinstance(link, str) and link.startswith("/") else None,
                        created_at=_iso(row.created_at), delivered_at=_iso(row.delivered_at),
                        read_at=_iso(row.read_at), read=row.read_at is not None)


def _not_found(message_id: int) -> Problem:
    return Problem(404, "notification-not-found", f"Không có thông báo số {message_id}.")


@router.get("/api/v1/notifications", summary="Thông báo của tôi")
def my_notifications(session: SessionDep, user: CurrentUser,
                     limit: Annotated[int, Query(ge=1, le=100)] = 20,
                     before: Cursor = None,
                     unread: Annotated[bool, Query(description="Chỉ thông báo chưa đọc")] = False,
                     ) -> NotificationPage:
    """My delivered in-app messages, newest first."""
    rows = bell.messages_of(session, user.username, limit=limit, before=before,
                            unread_only=unread)
    return NotificationPage(items=[notification_json(r) for r in rows[:limit]],
                            next=rows[limit - 1].id if len(rows) > limit else None,
                            unread=bell.unread_count(session, user.username))


@router.get("/api/v1/notifications/unread-count", summary="Số thông báo chưa đọc")
def unread_count(session: SessionDep, user: CurrentUser) -> UnreadCount:
    return UnreadCount(unread=bell.unread_count(session, user.username))


@router.post("/api/v1/notifications/read-all", summary="Đánh dấu tất cả là đã đọc")
def read_all(request: Request, session: SessionDep, user: CurrentUser) -> MarkedRead:
    marked = bell.mark_all_read(session, user.username, now=now(request))
    session.commit()
    return MarkedRead(marked=marked, unread=bell.unread_count(session, user.username))


@router.post("/api/v1/notifications/{message_id}/read", summary="Đánh dấu đã đọc")
def read_one(message_id: MessageId, request: Request, session: SessionDep,
             user: CurrentUser) -> Notification:
    row = bell.mark_read(session, user.username, message_id, now=now(request))
    if row is None:
        raise _not_found(message_id)
    session.commit()
    return notification_json(row)


# ----- administrators: deliveries and the dead-letter list ------------------------------------

def delivery_json(row: OutboxMessage) -> Delivery:
    channel, state = Channel(row.channel), DeliveryState(row.state)
    return Delivery(id=row.id, kind=row.kind, kind_label=kind_label(row.kind),
                    channel=channel.value, channel_label=channel.label_vi,
                    recipient=mask(channel, row.recipient), dossier=row.dossier_code,
                    subject=row.subject, state=state.value, state_label=state.label_vi,
                    attempts=row.attempts, last_error=row.last_error,
                    created_at=_iso(row.created_at), next_attempt_at=_iso(row.next_attempt_at),
                    delivered_at=_iso(row.delivered_at))


@router.get("/api/v1/admin/deliveries", tags=["admin"], summary="Danh sách thông báo đã/đang gửi")
def deliveries(session: SessionDep, _admin: Admin,
               state: DeliveryState = DeliveryState.DEAD,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               before: Cursor = None,
               ) -> DeliveryPage:
    """Messages in ``state`` (default: dead, the failed deliveries), newest first."""
    query = select(OutboxMessage).where(col(OutboxMessage.state) == state.value)
    if before is not None:
        query = query.where(col(OutboxMessage.id) < before)
    rows = session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(limit + 1)).all()
    return DeliveryPage(items=[delivery_json(r) for r in rows[:limit]],
                        next=rows[limit - 1].id if len(rows) > limit else None)


@router.post("/api/v1/admin/deliveries/{message_id}/retry", tags=["admin"],
             summary="Gửi lại thông báo gửi thất bại")
def retry(message_id: MessageId, request: Request, session: SessionDep, _admin: Admin) -> Delivery:
    """A dead message is sent again: its attempts start over (``engine.outbox.retry_dead``)."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise Problem(404, "delivery-not-found", f"Không có thông báo số {message_id}.")
    if not retry_dead(session, message_id, now=now(request)):
        raise Problem(409, "delivery-not-dead",
                      f"Thông báo số {message_id} không ở trạng thái gửi thất bại "
                      f"({DeliveryState(row.state).label_vi}).", state=row.state)
    session.commit()
    session.refresh(row)
    return delivery_json(row)
