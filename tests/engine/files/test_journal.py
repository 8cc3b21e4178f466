"""The journal covers attachments: the event of the action that brought a file names its
hash (``attach`` at a step, or the files of ``receive_supplement``); whoever may act may
attach, nobody else, never on a closed dossier; a row its event does not name is caught."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text

from engine.files import journal
from engine.files.models import AttachmentKind
from engine.files.records import files_of
from engine.files.store import MediaType, StoredBlob
from engine.lifecycle import act, audit
from engine.lifecycle.consistency import find_inconsistencies
from engine.lifecycle.errors import Forbidden, IllegalAction
from engine.lifecycle.policy import allowed_actions
from engine.samples import (
    CLERK,
    LEADER,
    OFFICER,
    RECEIVED_AT,
    STANDARD_PATH,
    advance,
    processed_to,
    seed_world,
)


@pytest.fixture
def world(session):
    seed_world(session)
    session.commit()
    return session


def incoming(data: bytes, kind=AttachmentKind.SCAN, name="ban-quet.pdf", component=None):
    blob = StoredBlob(hashlib.sha256(data).hexdigest(), len(data), MediaType.PDF)
    return journal.IncomingFile.of(blob, kind=kind, file_name=name, component_id=component)


def attach(session, code, actor, *files, at=None):
    done = journal.attach(session, code=code, actor=actor, files=list(files),
                          max_dossier_bytes=10 ** 9, at=at)
    session.commit()
    return done


def test_attach_names_each_hash_in_its_event_and_leaves_the_state(world):
    s = world
    dossier = processed_to(s, "received")
    version = dossier.version
    a, b = incoming(b"%PDF-a"), incoming(b"%PDF-b", name="../Bản gốc.pdf", component="1")
    result, _rows = attach(s, dossier.code, CLERK, a, b, at=RECEIVED_AT + timedelta(minutes=5))
    event = result.event
    assert (event.action, event.state_before, event.state_after) == ("attach", "received",
                                                                     "received")
    assert [f["sha256"] for f in event.payload["files"]] == [a.blob.sha256, b.blob.sha256]
    assert event.payload["files"][1] == {
        "sha256": b.blob.sha256, "size": 6, "media_type": "application/pdf", "kind": "scan",
        "component_id": "1", "file_name": "Bản gốc.pdf"}
    assert [r.event_seq for r in files_of(s, dossier.id)] == [event.seq, event.seq]
    assert result.dossier.version == version + 1
    assert audit.verify(s, dossier_code=dossier.code) == (1, [])
    assert find_inconsistencies(s, dossier_code=dossier.code) == []
    assert "attach" not in allowed_actions(s, result.dossier, CLERK)


def test_files_arriving_with_an_action_are_named_by_that_action(world):
    s = world
    dossier = processed_to(s, "in_processing")
    at = RECEIVED_AT + timedelta(hours=3)
    act(s, code=dossier.code, action="request_supplement", actor=OFFICER, at=at,
        reason="Thiếu bản sao", payload={"missing": ["Bản sao giấy tờ tùy thân"]})
    s.commit()
    files = [incoming(b"%PDF-supplement", kind=AttachmentKind.SUPPLEMENT)]
    result = act(s, code=dossier.code, action="receive_supplement", actor=CLERK,
                 at=at + timedelta(hours=1), payload={"files": journal.payload_entries(files)})
    journal.record_all(s, dossier_id=dossier.id, event_seq=result.event.seq, files=files,
                       uploaded_by=CLERK.id)
    s.commit()
    assert find_inconsistencies(s, dossier_code=dossier.code) == []


def test_only_who_may_act_now_attaches_and_never_on_a_closed_dossier(world):
    s = world
    dossier = processed_to(s, "in_processing")
    advance(s, dossier.code, STANDARD_PATH[1], at=RECEIVED_AT + timedelta(hours=2))
    s.commit()  # now at the leader's step: the officer has nothing to do on it
    with pytest.raises(Forbidden):
        attach(s, dossier.code, OFFICER, incoming(b"%PDF-x"))
    s.rollback()
    attach(s, dossier.code, LEADER, incoming(b"%PDF-result", kind=AttachmentKind.RESULT))
    returned = processed_to(s, "returned", at=RECEIVED_AT + timedelta(days=1))
    with pytest.raises(IllegalAction):
        attach(s, returned.code, CLERK, incoming(b"%PDF-late"))
    s.rollback()
    assert files_of(s, returned.id) == []


def test_a_row_its_event_does_not_name_is_an_inconsistency(world):
    s = world
    dossier = processed_to(s, "received")
    attach(s, dossier.code, CLERK, incoming(b"%PDF-a"))
    s.execute(text("UPDATE attachment SET size = size + 1"))
    s.commit()
    found = find_inconsistencies(s, dossier_code=dossier.code)
    assert [f.code for f in found] == [dossier.code]
    s.execute(text("UPDATE attachment SET size = size - 1, event_seq = NULL"))
    s.commit()
    assert "không gắn với sự kiện" in find_inconsistencies(s)[0].reason


def test_the_per_dossier_limit_counts_what_is_there(world):
    s = world
    dossier = processed_to(s, "received")
    attach(s, dossier.code, CLERK, incoming(b"%PDF-" + b"a" * 95))
    with pytest.raises(journal.DossierFilesTooLarge):
        journal.attach(s, code=dossier.code, actor=CLERK, files=[incoming(b"%PDF-b")],
                       max_dossier_bytes=101)
