"""The tamper-evident event log: every dossier's events form a hash chain; ``audit.verify``
passes on untouched data and reports the first broken link after an UPDATE or DELETE made
behind the engine's back."""

from itertools import pairwise

from sqlalchemy import text

from engine.lifecycle import Applicant, audit, events_of, guide, receive, refuse_at_reception

from .conftest import APPLICANT, CLERK, COMMUNE_CLERK, COMPONENTS, DEPT, LEADER, OFFICER, at
from .flow import PROC, do, in_processing, receive_ok


def many_dossiers(s):
    """Seven dossiers through most paths of the lifecycle (and a guidance)."""
    full = in_processing(s, "2025-03-03T09:00")
    do(s, full.code, "assign", LEADER, "2025-03-03T10:00", payload={"assignee": "officer1"})
    do(s, full.code, "request_supplement", OFFICER, "2025-03-04T09:00", reason="Thiếu",
       payload={"missing": ["Đơn đề nghị"]})
    do(s, full.code, "receive_supplement", CLERK, "2025-03-05T09:00")
    do(s, full.code, "pause", OFFICER, "2025-03-06T09:00", reason="Xác minh thực địa")
    do(s, full.code, "resume", OFFICER, "2025-03-07T09:00")
    do(s, full.code, "request_payment", OFFICER, "2025-03-07T10:00",
       payload={"amount_vnd": 200000})
    do(s, full.code, "confirm_payment", CLERK, "2025-03-07T11:00")
    do(s, full.code, "forward", OFFICER, "2025-03-10T09:00")
    do(s, full.code, "apologise", LEADER, "2025-03-10T10:00", reason="Chậm",
       payload={"new_due": "2025-03-21"})
    do(s, full.code, "finish", LEADER, "2025-03-11T09:00")
    do(s, full.code, "return_result", CLERK, "2025-03-12T09:00")
    do(s, full.code, "correct_result", LEADER, "2025-03-13T09:00", reason="Sai chính tả")
    do(s, full.code, "return_result", CLERK, "2025-03-14T09:00")

    refused_ = in_processing(s, "2025-03-03T09:30")
    do(s, refused_.code, "refuse", LEADER, "2025-03-04T09:00", reason="Không đủ điều kiện")
    stopped = receive_ok(s, "2025-09-15T09:00")
    do(s, stopped.code, "stop", CLERK, "2025-09-16T09:00", reason="Theo yêu cầu")
    withdrawn = in_processing(s, "2025-03-03T10:00")
    do(s, withdrawn.code, "withdraw", CLERK, "2025-03-04T09:00")
    online = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                     components=COMPONENTS, competent_agency=DEPT, online=True,
                     at=at("2025-03-01T20:00")).dossier
    s.commit()
    do(s, online.code, "receive", CLERK, "2025-03-03T08:00")
    free = receive_ok(s, "2025-07-07T09:00", actor=COMMUNE_CLERK)
    do(s, free.code, "transfer", COMMUNE_CLERK, "2025-07-07T10:00")
    do(s, free.code, "accept_transfer", OFFICER, "2025-07-08T09:00")
    refuse_at_reception(s, actor=CLERK, procedure_code=PROC, applicant=Applicant(name="B"),
                        reason="Sai thẩm quyền", at=at("2025-03-03T11:00"))
    guide(s, actor=CLERK, procedure_code=PROC, applicant_name="C", missing=["Đơn đề nghị"],
          reason="Thiếu", at=at("2025-03-03T11:30"))  # guidance is no dossier: no chain
    s.commit()
    return full, refused_


def test_chains_of_many_dossiers_verify(world):
    s = world
    full, _ = many_dossiers(s)
    assert audit.verify(s) == (7, [])
    events = events_of(s, full)
    assert [e.seq for e in events] == list(range(1, 16))
    assert events[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in pairwise(events))
    assert len({e.hash for e in events}) == len(events)


def tamper(s, sql, **params):
    s.execute(text(sql), params)
    s.commit()
    s.expire_all()


def test_a_changed_reason_is_the_first_broken_link(world):
    s = world
    full, other = many_dossiers(s)
    target = events_of(s, full)[3]
    assert (target.seq, target.action, target.reason) == (4, "request_supplement", "Thiếu")
    tamper(s, "UPDATE dossier_event SET reason = :r WHERE id = :i", r="Đủ", i=target.id)
    checked, broken = audit.verify(s)
    assert checked == 7
    assert broken == [audit.BrokenLink(full.code, 4, "nội dung sự kiện đã bị thay đổi")]
    assert audit.verify(s, dossier_code=other.code) == (1, [])


def test_a_changed_actor_or_time_breaks_the_chain_too(world):
    s = world
    full, other = many_dossiers(s)
    events = events_of(s, other)
    tamper(s, "UPDATE dossier_event SET actor_id = 'someone' WHERE id = :i", i=events[2].id)
    tamper(s, "UPDATE dossier_event SET at = :t WHERE id = :i", t=at("2025-03-03T10:00"),
           i=events_of(s, full)[9].id)
    _, broken = audit.verify(s)
    assert [(b.dossier_code, b.seq) for b in broken] == [(full.code, 10), (other.code, 3)]


def test_a_deleted_event_is_reported_as_missing_at_its_seq(world):
    s = world
    full, _ = many_dossiers(s)
    transfer = events_of(s, full)[1]
    assert transfer.action == "transfer"  # an event without documents attached
    tamper(s, "DELETE FROM dossier_event WHERE id = :i", i=transfer.id)
    _, broken = audit.verify(s)
    assert broken == [audit.BrokenLink(full.code, 2, "thiếu sự kiện (gặp #3)")]


def test_deleting_the_last_events_is_detected_by_the_dossiers_chain_head(world):
    s = world
    full, _ = many_dossiers(s)
    cut = events_of(s, full)[-2].seq  # the last two events carry no documents
    tamper(s, "DELETE FROM dossier_event WHERE dossier_id = :d AND seq >= :q", d=full.id, q=cut)
    _, broken = audit.verify(s)
    assert broken == [audit.BrokenLink(full.code, cut,
                                       "thiếu sự kiện cuối (chuỗi bị cắt so với hồ sơ)")]


def test_an_event_re_sealed_without_its_successors_still_breaks_the_chain(world):
    s = world
    full, _ = many_dossiers(s)
    events = events_of(s, full)
    forged = events[5]
    forged.reason = "Đã nhận đủ"
    audit.seal(forged, full.code, forged.prev_hash)  # a forger who recomputes one hash
    s.add(forged)
    s.commit()
    _, broken = audit.verify(s)
    assert broken == [audit.BrokenLink(full.code, 7, "liên kết với sự kiện trước bị sai")]
