"""Delivery of outbox messages (``engine.outbox``): in-app, e-mail (SMTP), signed webhook and
the national portal's records (``portal.py``; docs/sync.md, "Outbound").

``deliver_due(engine, worker=...)`` delivers one batch; the scheduler calls it from a job, and
several processes may call it at once (claims never overlap). Settings come from the
environment (:class:`DeliverySettings`; docs/notifications.md, "Delivery and channels").
"""

from service.delivery.message import DeliveryError, Outgoing
from service.delivery.settings import (
    DeliverySettings,
    PortalSettings,
    SmtpSettings,
    WebhookSettings,
)
from service.delivery.worker import Couriers, DeliveryReport, couriers_for, deliver_due

__all__ = ["Couriers", "DeliveryError", "DeliveryReport", "DeliverySettings", "Outgoing",
           "PortalSettings", "SmtpSettings", "WebhookSettings", "couriers_for", "deliver_due"]
