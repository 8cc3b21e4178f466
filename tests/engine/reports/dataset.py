"""The fixed dataset of the report tests, as ``motcua import`` lines, with hand-computed verdicts.

Every case of ``shared/deadline_cases.md`` is here (``case_*`` codes; their due dates are the
ones worked out there), plus March 2026 dossiers that exercise every figure: channels, carried
over, early / on time / late, pending within / late, withdrawn, refused, stopped, supplements
(restart, repeated, late request), apologies (in time, late, missing), a pause, and dossiers
whose verdict at the end of March needs their events (waiting for a supplement, paused).

Calendar facts used below (national calendar): March 2026 has no day off (Mon 02/03 … Tue
31/03); Tết 2026 days off are Mon 16/02 – Fri 20/02.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

CENTRE = "000.00.00.H31"  # provincial centre (receives; competent for its own procedures)
DEPT = "000.00.10.H31"  # department (competent)
COMMUNE = "000.01.00.H31"  # commune centre (receives and is competent)
PROC = "1.000001"  # 5 working days (3 from 01/07/2025) in the catalogue; lines carry their own
PROC2 = "2.000815"  # a same-day certification procedure


def ev(at: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"at": at, "kind": kind, **extra}


def line(code: str, events: list[dict[str, Any]], *, limit: float = 3,
         unit: str = "working_days", agency: str = CENTRE, competent: str | None = DEPT,
         procedure: str = PROC, channel: str = "counter", officer: str | None = "officer1",
         **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "procedure": procedure, "agency": agency,
                           "limit": limit, "unit": unit, "supplement_effect": "restart",
                           "channel": channel, "events": events, **extra}
    if competent:
        out["competent_agency"] = competent
    if officer:
        out["officer"] = officer
    return out


APOLOGY = "Cần xác minh thêm"
PAUSE = "Xác minh thực địa"

# (import line, expected verdict at the end of March 2026 or None when outside March)
DOSSIERS: list[tuple[dict[str, Any], str | None]] = [
    # ----- deadline_cases.md --------------------------------------------------------------
    (line("case01-early", [ev("2024-11-04T09:15", "received"),
                           ev("2024-11-06T10:00", "result_ready")]), None),
    (line("case01-ontime", [ev("2024-11-04T09:15", "received"),
                            ev("2024-11-07T16:00", "result_ready")]), None),
    (line("case01-late", [ev("2024-11-04T09:15", "received"),
                          ev("2024-11-08T09:00", "result_ready")]), None),
    (line("case02", [ev("2024-11-15T09:00", "received"),
                     ev("2024-11-22T16:30", "result_ready")], limit=5), None),
    (line("case03", [ev("2024-08-29T14:00", "received"),
                     ev("2024-09-04T10:00", "result_ready")]), None),
    (line("case04", [ev("2024-02-07T09:00", "received"),
                     ev("2024-02-22T10:00", "result_ready")], limit=5), None),
    (line("case05", [ev("2024-04-26T09:00", "received"),
                     ev("2024-05-06T10:00", "result_ready")]), None),
    (line("case06a", [ev("2026-03-12T10:45", "received"),
                      ev("2026-03-12T14:00", "result_ready")],
          limit=2, unit="working_hours", procedure=PROC2, competent=None), "on_time"),
    (line("case06b", [ev("2026-03-12T16:15", "received"),
                      ev("2026-03-13T10:00", "result_ready")],
          limit=2, unit="working_hours", procedure=PROC2, competent=None), "on_time"),
    (line("case06c", [ev("2026-04-29T16:00", "received")],
          limit=2, unit="working_hours", procedure=PROC2, competent=None), None),
    (line("case07a", [ev("2025-04-29T09:00", "received"),
                      ev("2025-05-05T10:00", "result_ready")], limit=2), None),
    (line("case07b", [ev("2025-04-25T09:00", "received"),
                      ev("2025-04-28T10:00", "result_ready")], limit=2), None),
    (line("case08", [ev("2025-01-24T09:00", "received"),
                     ev("2025-02-14T10:00", "result_ready")], limit=10), None),
    (line("case09a", [ev("2025-12-11T14:50", "received"),
                      ev("2025-12-11T16:00", "result_ready")],
          limit=0, unit="same_day", procedure=PROC2, competent=None), None),
    (line("case09b", [ev("2025-12-11T15:30", "received"),
                      ev("2025-12-12T09:00", "result_ready")],
          limit=0, unit="same_day", procedure=PROC2, competent=None), None),
    (line("case09c", [ev("2025-12-12T15:45", "received"),
                      ev("2025-12-15T09:00", "result_ready")],
          limit=0, unit="same_day", procedure=PROC2, competent=None), None),
    (line("case10", [ev("2026-03-07T09:00", "received"),
                     ev("2026-03-10T15:00", "result_ready"),
                     ev("2026-03-11T09:00", "returned")], limit=2), "on_time"),
    (line("case11", [ev("2025-12-31T16:00", "received"),
                     ev("2026-01-05T10:00", "result_ready")],
          limit=0, unit="same_day", procedure=PROC2, competent=None), None),
    (line("case12a", [ev("2026-01-07T09:00", "received"),
                      ev("2026-01-12T10:00", "result_ready")]), None),
    (line("case12b", [ev("2025-12-30T09:00", "received"),
                      ev("2026-01-08T10:00", "result_ready")], limit=5), None),
    (line("case13", [ev("2026-03-16T08:30", "received"),
                     ev("2026-03-19T16:00", "result_ready")], channel="online"), "on_time"),
    # ----- March 2026 ---------------------------------------------------------------------
    # received 25/02, 5 wd → due Wed 04/03; ended 05/03: carried over, late, no apology
    (line("m-carried-late", [ev("2026-02-25T09:00", "received"),
                             ev("2026-03-05T10:00", "result_ready")], limit=5), "late"),
    # received and ended in February: not in March
    (line("m-february", [ev("2026-02-02T09:00", "received"),
                         ev("2026-02-05T10:00", "result_ready")]), None),
    # postal, 02/03 + 5 wd → Mon 09/03; ended Fri 06/03: early
    (line("m-postal-early", [ev("2026-03-02T08:00", "received"),
                             ev("2026-03-06T10:00", "result_ready")], limit=5,
          channel="postal"), "early"),
    # supplement requested 03/03 (in the window), received 09/03 → restart: due Thu 12/03;
    # result 11/03: early
    (line("m-supplement-once", [ev("2026-03-02T09:00", "received"),
                                ev("2026-03-03T10:00", "supplement_requested"),
                                ev("2026-03-09T09:00", "supplement_received"),
                                ev("2026-03-11T10:00", "result_ready")]), "early"),
    # two requests: due after the second restart Fri 13/03, result 12/03 early (T12), but
    # late for QĐ 766 (more than one supplement request)
    (line("m-supplement-twice", [ev("2026-03-02T09:00", "received"),
                                 ev("2026-03-03T10:00", "supplement_requested"),
                                 ev("2026-03-04T09:00", "supplement_received"),
                                 ev("2026-03-05T10:00", "supplement_requested"),
                                 ev("2026-03-06T09:00", "supplement_received"),
                                 ev("2026-03-12T10:00", "result_ready")], limit=5), "early"),
    # 10 wd; request on 09/03, after the 3-working-day window (ends Thu 05/03): flagged;
    # received 10/03 → due Tue 24/03; result 23/03 early
    (line("m-supplement-late-request", [ev("2026-03-02T09:00", "received"),
                                        ev("2026-03-09T10:00", "supplement_requested"),
                                        ev("2026-03-10T09:00", "supplement_received"),
                                        ev("2026-03-23T10:00", "result_ready")], limit=10),
     "early"),
    # due Thu 05/03; apology Wed 04/03 (in time) with a new date 10/03; result Mon 09/03:
    # late against the legal due date (T9), apology in time
    (line("m-apology-in-time", [ev("2026-03-02T09:00", "received"),
                                ev("2026-03-04T10:00", "apology", reason=APOLOGY,
                                   new_due="2026-03-10"),
                                ev("2026-03-09T10:00", "result_ready")]), "late"),
    # due Thu 05/03; apology on the due date itself (late); result Fri 06/03: late
    (line("m-apology-late", [ev("2026-03-02T09:00", "received"),
                             ev("2026-03-05T10:00", "apology", reason=APOLOGY,
                                new_due="2026-03-09"),
                             ev("2026-03-06T10:00", "result_ready")]), "late"),
    # 03/03 + 2 wd → Thu 05/03; result Mon 09/03: late, no apology
    (line("m-late-no-apology", [ev("2026-03-03T09:00", "received"),
                                ev("2026-03-09T10:00", "result_ready")], limit=2,
          competent=COMMUNE, agency=COMMUNE), "late"),
    # withdrawn 04/03, due 06/03: ended early, withdrawn
    (line("m-withdrawn", [ev("2026-03-03T09:00", "received"),
                          ev("2026-03-04T10:00", "withdrawn")]), "early"),
    # refused after appraisal on the due date Fri 06/03: on time, refused
    (line("m-refused", [ev("2026-03-03T09:00", "received"),
                        ev("2026-03-06T10:00", "refused", reason="Không đủ điều kiện")]),
     "on_time"),
    # stopped Tue 10/03, due Mon 09/03: late, stopped, no apology
    (line("m-stopped", [ev("2026-03-04T09:00", "received"),
                        ev("2026-03-10T10:00", "stopped")], competent=COMMUNE,
          agency=COMMUNE, channel="online"), "late"),
    # received Mon 30/03 → due Thu 02/04: pending within at 31/03
    (line("m-pending-within", [ev("2026-03-30T09:00", "received")], channel="online"),
     "pending_within"),
    # received Mon 23/03 → due Thu 26/03; still running: pending late, no apology
    (line("m-pending-late", [ev("2026-03-23T09:00", "received")]), "pending_late"),
    # received 16/03 → due Thu 19/03; request Mon 23/03 (late request); waiting at 31/03, so
    # judged at the request (23/03 > 19/03): pending late — although the due date stored
    # after the supplement of 01/04 (Mon 06/04) would say "within"
    (line("m-awaiting-supplement", [ev("2026-03-16T09:00", "received"),
                                    ev("2026-03-23T10:00", "supplement_requested"),
                                    ev("2026-04-01T09:00", "supplement_received"),
                                    ev("2026-04-03T10:00", "result_ready")]), "pending_late"),
    # received 23/03 → due Thu 26/03; paused 25/03, still paused at 31/03: the due date is
    # extended by the pause (T8) → pending within; QĐ 766 does not extend → not on time
    (line("m-paused", [ev("2026-03-23T09:00", "received"),
                       ev("2026-03-25T10:00", "paused", reason=PAUSE),
                       ev("2026-04-02T09:00", "resumed"),
                       ev("2026-04-03T10:00", "result_ready")]), "pending_within"),
    # received after March
    (line("m-april", [ev("2026-04-01T09:00", "received")]), None),
    # April, ended while paused: the end closes the pause (the import adds a resume without a
    # clock record), so the due date last moved on the end day, Fri 10/04
    (line("m-april-ended-paused", [ev("2026-04-06T09:00", "received"),
                                   ev("2026-04-07T10:00", "paused", reason=PAUSE),
                                   ev("2026-04-10T10:00", "result_ready")]), None),
]

MARCH_FROM, MARCH_TO = date(2026, 3, 1), date(2026, 3, 31)
#: Dossiers of March 2026 received before the period (carried over).
MARCH_CARRIED = {"m-carried-late"}
MARCH_CHANNEL = {
    "online": {"case13", "m-stopped", "m-pending-within"},
    "postal": {"m-postal-early"},
}
MARCH_WITHDRAWN = {"m-withdrawn"}
MARCH_REFUSED = {"m-refused"}
MARCH_STOPPED = {"m-stopped"}
#: QĐ 766: more than one supplement request → late; an open pause does not extend.
MARCH_NOT_766 = {"m-supplement-twice", "m-paused"}
MARCH_APOLOGY = {"in_time": {"m-apology-in-time"}, "late": {"m-apology-late"},
                 "missing": {"m-carried-late", "m-late-no-apology", "m-stopped",
                             "m-pending-late", "m-awaiting-supplement"}}


def march_expected() -> dict[str, str]:
    return {d["code"]: v for d, v in DOSSIERS if v is not None}


def jsonl() -> str:
    return "\n".join(json.dumps(d, ensure_ascii=False) for d, _ in DOSSIERS) + "\n"
