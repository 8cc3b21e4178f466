"""A row made without the model's constructor (``engine.lifecycle.rows.new_row``, the receipt's
dossier and every issued form) is the row the constructor makes: same fields, same defaults,
its own mutable defaults, and nothing the constructor would refuse to hold."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm.attributes import instance_state

from engine.lifecycle.models import Dossier, IssuedDocument
from engine.lifecycle.rows import new_row

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DOSSIER = dict(code="000.00.00.H31-250303-0001", secret="s", procedure_code="1.000001",
               procedure_version=date(2019, 1, 1), procedure_name="Cấp giấy phép",
               channel="counter", state="new", status_code=0, receiving_agency="A",
               competent_agency="B", returning_agency="A", applicant_name="Nguyễn Văn An",
               limit_amount=5.0, limit_unit="working_days", supplement_effect="restart",
               created_at=NOW, updated_at=NOW)


def _fields(obj: object) -> dict:
    return {k: v for k, v in vars(obj).items() if not k.startswith("_sa_")}


@pytest.mark.parametrize(("model", "values"), [
    (Dossier, DOSSIER),
    (IssuedDocument, dict(form="receipt", form_set="2018", number="01/TNHS", issued_at=NOW,
                          issued_by="clerk1", dossier_id=1)),
])
def test_a_new_row_holds_what_the_constructor_would(model, values):
    made, built = new_row(model, **values), model(**values)
    assert _fields(made) == _fields(built)
    assert made.__pydantic_fields_set__ == built.__pydantic_fields_set__
    assert instance_state(made).transient


def test_each_new_row_gets_its_own_mutable_defaults():
    first, second = new_row(Dossier, **DOSSIER), new_row(Dossier, **DOSSIER)
    first.flags.append("x")
    first.components.append({"name": "Đơn"})
    assert second.flags == [] and second.components == []


def test_a_new_row_refuses_a_field_its_model_does_not_have():
    with pytest.raises(TypeError, match="no field"):
        new_row(Dossier, **DOSSIER, colour="red")


def test_a_change_to_a_new_row_is_tracked_like_any_row():
    dossier = new_row(Dossier, **DOSSIER)
    dossier.state = "received"
    assert dossier.state == "received"
    assert "state" in instance_state(dossier).committed_state
