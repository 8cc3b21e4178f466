"""Who may record an earlier instant than the server's clock, how far back, and that the
event and the dossier say so (``engine.lifecycle.backdating``)."""

from datetime import UTC, datetime, timedelta

import pytest

from engine.lifecycle.backdating import BackdatePolicy, check_backdate
from engine.lifecycle.errors import Forbidden, InvalidInput

from .conftest import CLERK, at
from .flow import do, receive_ok

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
POLICY = BackdatePolicy(roles=frozenset({"leader"}), max_days=5)


def test_a_named_role_may_record_an_instant_within_the_window_with_a_reason():
    reason = check_backdate(role="leader", at=NOW - timedelta(days=4), now=NOW,
                            reason="  Hồ sơ giấy  ", policy=POLICY)
    assert reason == "Hồ sơ giấy"


@pytest.mark.parametrize(("role", "instant", "reason", "error"), [
    ("clerk", NOW - timedelta(hours=1), "x", Forbidden),
    ("leader", NOW + timedelta(seconds=1), "x", InvalidInput),
    ("leader", NOW - timedelta(days=5, seconds=1), "x", InvalidInput),
    ("leader", datetime(1900, 1, 1, tzinfo=UTC), "x", InvalidInput),
    ("leader", NOW - timedelta(hours=1), "  ", InvalidInput),
])
def test_other_roles_the_future_too_far_back_or_no_reason_are_refused(role, instant, reason,
                                                                      error):
    with pytest.raises(error):
        check_backdate(role=role, at=instant, now=NOW, reason=reason, policy=POLICY)


def test_the_policy_reads_its_settings():
    policy = BackdatePolicy.from_env({"MOTCUA_BACKDATE_ROLES": "clerk, leader",
                                      "MOTCUA_BACKDATE_MAX_DAYS": "2"})
    assert policy == BackdatePolicy(roles=frozenset({"clerk", "leader"}), max_days=2)
    assert BackdatePolicy.from_env({}) == POLICY


def test_a_backdated_action_is_flagged_on_the_event_and_the_dossier(world):
    s = world
    d = receive_ok(s, "2025-03-03T09:00")
    result = do(s, d.code, "transfer", CLERK, "2025-03-03T10:00",
                backdate_reason="Chuyển bằng giấy khi mất mạng")
    assert result.event.payload["backdated"] == {"reason": "Chuyển bằng giấy khi mất mạng"}
    assert "backdated" in d.flags
    assert result.event.at == at("2025-03-03T10:00")
