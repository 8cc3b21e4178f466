"""The postal channel (bưu chính công ích, QĐ 45/2016; domain §7.2, docs/lifecycle.md): a
dossier received by post keeps the day the post office delivered it while its clock starts at
the receipt; a result returned by post is handed to the post office with a tracking number and
an address, and the day it was delivered is recorded afterwards. Bad input changes nothing."""

from datetime import date

import pytest
from sqlmodel import func, select

from engine.lifecycle import Applicant, allowed_actions, events_of, get_dossier
from engine.lifecycle.errors import Forbidden, IllegalAction, InvalidInput
from engine.lifecycle.models import Dossier
from engine.lifecycle.postal import receipt_warnings
from engine.samples import received

from .conftest import CLERK, OFFICER, at
from .flow import do, in_processing, receive_ok, refused


def returned_by_post(s, **payload):
    d = in_processing(s, "2025-03-03T09:00", channel="postal",
                      postal_delivered_on="2025-02-28", return_method="post")
    do(s, d.code, "finish", OFFICER, "2025-03-05T09:00")
    do(s, d.code, "return_result", CLERK, "2025-03-06T10:00",
       payload={"tracking_number": "eb 123 456 789 vn", **payload})
    return d


def test_a_dossier_received_by_post_keeps_the_delivery_day_and_starts_its_clock_at_receipt(world):
    s = world
    d = receive_ok(s, "2025-03-03T09:00", channel="postal", postal_delivered_on="2025-02-28")
    assert (d.channel, d.postal_delivered_on) == ("postal", date(2025, 2, 28))
    assert d.received_at == d.clock_started_at == at("2025-03-03T09:00")
    assert d.due_date == date(2025, 3, 10)  # 5 working days after 03/03, not after 28/02
    do(s, d.code, "transfer", CLERK, "2025-03-03T09:10")
    s.expire_all()
    stored = get_dossier(s, d.code)
    assert (stored.channel, stored.postal_delivered_on) == ("postal", date(2025, 2, 28))
    warning, = receipt_warnings(d)
    assert "28/02/2025" in warning and "03/03/2025" in warning and "ghi lùi" in warning


def test_the_receipt_event_journals_the_delivery_day(world):
    s = world
    d = receive_ok(s, "2025-03-03T09:00", channel="postal", postal_delivered_on=date(2025, 3, 3))
    assert events_of(s, d)[0].payload["postal_delivered_on"] == "2025-03-03"
    assert receipt_warnings(d) == []  # delivered and received the same day


@pytest.mark.parametrize(("channel", "delivered", "message"), [
    ("postal", None, "nhập ngày bưu điện giao hồ sơ"),
    ("postal", "2025-03-04", "không được sau ngày tiếp nhận (03/03/2025)"),
    ("postal", "2023-03-01", "quá một năm"),
    ("postal", "28/02/2025", "định dạng YYYY-MM-DD"),
    ("counter", "2025-02-28", "chỉ nhập ngày bưu điện giao hồ sơ khi hồ sơ nộp qua bưu chính"),
])
def test_a_bad_delivery_day_at_receipt_is_refused_and_nothing_is_stored(world, channel,
                                                                       delivered, message):
    s = world
    with pytest.raises(InvalidInput) as caught:
        received(s, at=at("2025-03-03T09:00"), channel=channel, postal_delivered_on=delivered)
    s.rollback()
    assert message in str(caught.value)
    assert caught.value.details["field"] == "postal_delivered_on"
    assert s.exec(select(func.count()).select_from(Dossier)).one() == 0


def test_return_by_post_hands_over_with_tracking_number_then_delivery_is_recorded(world):
    s = world
    d = returned_by_post(s)
    assert (d.state, d.status_code, d.return_method) == ("returned", 10, "post")
    assert d.returned_at == at("2025-03-06T10:00")  # the hand-over to the post office
    assert d.postal_tracking_number == "EB123456789VN"
    assert d.recipient_address == "Số 5 Lạch Tray, Hải Phòng"  # the applicant's by default
    assert d.result_delivered_on is None
    assert "record_postal_delivery" in allowed_actions(s, d, CLERK)
    handed = events_of(s, d)[-1].payload
    assert (handed["method"], handed["tracking_number"], handed["recipient_address"]) == \
        ("post", "EB123456789VN", "Số 5 Lạch Tray, Hải Phòng")

    r = do(s, d.code, "record_postal_delivery", CLERK, "2025-03-10T08:00",
           payload={"delivered_on": "2025-03-08"})
    assert d.result_delivered_on == date(2025, 3, 8)
    assert (r.event.state_before, r.event.state_after) == ("returned", "returned")
    assert r.event.payload["delivered_on"] == "2025-03-08"
    assert "record_postal_delivery" not in allowed_actions(s, d, CLERK)  # once
    exc = refused(s, InvalidInput, d.code, "record_postal_delivery", CLERK, "2025-03-11T08:00",
                  payload={"delivered_on": "2025-03-09"})
    assert "đã ghi nhận" in str(exc)


def test_return_by_post_to_another_address(world):
    s = world
    d = returned_by_post(s, recipient_address="Thôn 3, xã An Lư, Hải Phòng",
                         collected_by="Nguyễn Thị Bình")
    assert d.recipient_address == "Thôn 3, xã An Lư, Hải Phòng"
    assert d.collected_by == "Nguyễn Thị Bình"


def test_the_method_can_change_to_post_at_the_return(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")  # chose the counter at reception
    do(s, d.code, "finish", OFFICER, "2025-03-05T09:00")
    do(s, d.code, "return_result", CLERK, "2025-03-06T10:00",
       payload={"method": "post", "tracking_number": "RR998877665VN"})
    assert (d.return_method, d.postal_tracking_number) == ("post", "RR998877665VN")


@pytest.mark.parametrize(("payload", "field", "message"), [
    ({}, "payload.tracking_number", "nhập số hiệu bưu gửi"),
    ({"tracking_number": "   "}, "payload.tracking_number", "nhập số hiệu bưu gửi"),
    ({"tracking_number": "số hiệu 1"}, "payload.tracking_number", "không hợp lệ"),
    ({"tracking_number": "EB1", "method": "pigeon"}, "payload.method", "không hợp lệ"),
])
def test_a_return_by_post_without_a_good_tracking_number_is_refused(world, payload, field,
                                                                    message):
    s = world
    d = in_processing(s, "2025-03-03T09:00", return_method="post")
    do(s, d.code, "finish", OFFICER, "2025-03-05T09:00")
    exc = refused(s, InvalidInput, d.code, "return_result", CLERK, "2025-03-06T10:00",
                  payload=payload)
    assert message in str(exc) and exc.details["field"] == field


def test_a_return_by_post_needs_an_address(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00", return_method="post",
                      applicant=Applicant(name="Trần Văn Cường"))
    do(s, d.code, "finish", OFFICER, "2025-03-05T09:00")
    exc = refused(s, InvalidInput, d.code, "return_result", CLERK, "2025-03-06T10:00",
                  payload={"tracking_number": "EB123456789VN"})
    assert "địa chỉ nhận kết quả" in str(exc)


def test_a_tracking_number_for_a_counter_return_is_refused(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "finish", OFFICER, "2025-03-05T09:00")
    exc = refused(s, InvalidInput, d.code, "return_result", CLERK, "2025-03-06T10:00",
                  payload={"tracking_number": "EB123456789VN"})
    assert "chỉ nhập số hiệu bưu gửi khi trả kết quả qua bưu chính" in str(exc)


@pytest.mark.parametrize(("delivered", "message"), [
    (None, "nhập ngày bưu điện phát kết quả"),
    ("2025-03-11", "không được ở tương lai (hôm nay 10/03/2025)"),
    ("2025-03-05", "không được trước ngày giao bưu điện (06/03/2025)"),
    ("hôm qua", "định dạng YYYY-MM-DD"),
])
def test_a_bad_delivery_day_of_the_result_is_refused_and_nothing_changes(world, delivered,
                                                                         message):
    s = world
    d = returned_by_post(s)
    exc = refused(s, InvalidInput, d.code, "record_postal_delivery", CLERK, "2025-03-10T08:00",
                  payload={"delivered_on": delivered} if delivered else {})
    assert message in str(exc)
    assert get_dossier(s, d.code).result_delivered_on is None


def test_delivery_is_recorded_only_for_a_result_sent_by_post_and_by_the_counter(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    refused(s, IllegalAction, d.code, "record_postal_delivery", CLERK, "2025-03-04T08:00",
            payload={"delivered_on": "2025-03-04"})
    do(s, d.code, "finish", OFFICER, "2025-03-05T09:00")
    do(s, d.code, "return_result", CLERK, "2025-03-06T10:00")
    exc = refused(s, InvalidInput, d.code, "record_postal_delivery", CLERK, "2025-03-07T08:00",
                  payload={"delivered_on": "2025-03-07"})
    assert "không gửi qua bưu chính" in str(exc)
    p = returned_by_post(s)
    refused(s, Forbidden, p.code, "record_postal_delivery", OFFICER, "2025-03-07T08:00",
            payload={"delivered_on": "2025-03-07"})


def test_a_corrected_result_sent_again_by_post_forgets_the_first_delivery(world):
    s = world
    d = returned_by_post(s)
    do(s, d.code, "record_postal_delivery", CLERK, "2025-03-10T08:00",
       payload={"delivered_on": "2025-03-08"})
    do(s, d.code, "correct_result", OFFICER, "2025-03-11T08:00", reason="Sai tên")
    do(s, d.code, "return_result", CLERK, "2025-03-12T08:00",
       payload={"tracking_number": "EB000000002VN"})
    assert (d.postal_tracking_number, d.result_delivered_on) == ("EB000000002VN", None)
