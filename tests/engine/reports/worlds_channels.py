"""A small world of counter and online dossiers for the channel-target and satisfaction
tests (March 2025): who was received how, returned how, rated what."""

from __future__ import annotations

from datetime import timedelta

from engine.lifecycle import act
from engine.ratings import rate
from engine.samples import CLERK, STANDARD_PATH, advance, received
from engine.samples import local as at

CERTIFY_CODE = "2.000815"


def returned(s, when, *, online=False, return_method="counter", procedure_code=None,
             stop_before=None):
    """A dossier received at ``when`` (online: submitted at 07:00 then received by the clerk),
    taken along the standard path one hour apart (until ``stop_before`` if given)."""
    start = at(when)
    options = {"procedure_code": procedure_code} if procedure_code else {}
    if online:
        d = received(s, at=start - timedelta(hours=2), online=True,
                     return_method=return_method, **options)
        s.commit()
        act(s, code=d.code, action="receive", actor=CLERK, at=start)
    else:
        d = received(s, at=start, return_method=return_method, **options)
    s.commit()
    for i, move in enumerate(STANDARD_PATH, start=1):
        if move.action == stop_before:
            break
        if move.action == "return_result" and return_method == "post":
            d = act(s, code=d.code, action="return_result", actor=CLERK,
                    at=start + timedelta(hours=i),
                    payload={"tracking_number": "EB123456789VN"}).dossier
        else:
            d = advance(s, d.code, move, at=start + timedelta(hours=i)).dossier
        s.commit()
    return d


def build(s):
    """A counter dossier returned at the counter (rated 5), an online one returned online
    (rated 2), an online one returned at the counter (rated 4), one still in processing at
    the end of March (late by then), a certification returned by post (rated 1 in April)."""
    a = returned(s, "2025-03-03T09:00")
    b = returned(s, "2025-03-04T09:00", online=True, return_method="online")
    c = returned(s, "2025-03-05T09:00", online=True)
    d = returned(s, "2025-03-06T09:00", stop_before="forward")
    e = returned(s, "2025-03-07T09:00", procedure_code=CERTIFY_CODE, return_method="post")
    rate(s, a, score=5, reasons=["attitude", "time"], comment="Tốt", at=at("2025-03-20T10:00"))
    rate(s, b, score=2, reasons=["time", "cost"], at=at("2025-03-21T10:00"))
    rate(s, c, score=4, at=at("2025-03-22T10:00"))
    rate(s, e, score=1, reasons=["time"], at=at("2025-04-02T10:00"))
    s.commit()
    return {"a": a.code, "b": b.code, "c": c.code, "d": d.code, "e": e.code}
