"""The control sheet (*phiếu kiểm soát*, Mẫu 05/06) names the people who handed the dossier on
by their full names, as signed, not by their logins (issue 15)."""

from __future__ import annotations

from engine.users import User
from printouts.context import build
from printouts.load import load_bundle, options_for

from .conftest import needs_poppler, pdf_text
from .test_from_database import processed  # noqa: F401  (the fixture: a dossier end to end)

pytestmark = needs_poppler


def test_the_control_sheet_prints_full_names_not_usernames(processed, renderer,  # noqa: F811
                                                           tmp_path):
    session, code = processed
    for username, name, role, agency in [("clerk1", "Phạm Thu Hà", "clerk", "000.00.01.H26"),
                                         ("officer1", "Trần Văn Minh", "officer", "000.00.12.H26"),
                                         ("leader1", "Lê Văn Hùng", "leader", "000.00.12.H26")]:
        session.add(User(username=username, full_name=name, role=role, agency_code=agency,
                         password_hash="x"))
    session.commit()
    bundle = load_bundle(session, code)
    assert bundle.people == {"clerk1": "Phạm Thu Hà", "officer1": "Trần Văn Minh",
                             "leader1": "Lê Văn Hùng"}
    path = tmp_path / "control.pdf"
    renderer.pdf(build("control", bundle, None, options_for(bundle.agencies)), path)
    text = pdf_text(path)
    for giver in ("Phạm Thu Hà", "Trần Văn Minh", "Lê Văn Hùng"):
        assert f"Người giao: {giver}" in text, giver
    assert not any(login in text for login in ("clerk1", "officer1", "leader1"))
