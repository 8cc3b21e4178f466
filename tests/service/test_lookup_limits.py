"""The citizen lookup's limits count wrong secrets per dossier code and per address apart: a
shared address (a centre's Wi-Fi, a carrier's NAT) where someone guessed other codes still opens
the right dossier, while one code's guesses are slowed from every address together."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.ratelimit import (
    LOOKUP_ADDRESS_FREE_FAILURES,
    LOOKUP_CODE_FIRST_DELAY,
    LOOKUP_CODE_FREE_FAILURES,
)

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
UNKNOWN = "000.01.31.H26-990101-{:04d}"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(client) -> Clock:
    clock = Clock()
    client.app.state.clock = clock
    return clock


@pytest.fixture
def dossier(client) -> dict:
    return client.post("/api/v1/dossiers", json=EXAMPLE, headers=login(client, "clerk")).json()


def from_address(client, address: str) -> TestClient:
    return TestClient(client.app, client=(address, 50000))


def ask(client, code: str, secret: str):
    return client.get(f"/api/v1/public/dossiers/{code}", params={"secret": secret})


def test_the_right_secret_opens_its_dossier_after_many_wrong_ones_on_other_codes(
        client, clock, dossier):
    """Regression: after 30 wrong tries from one address every lookup answered 429, the right
    secret too, so one guesser locked out a whole centre's Wi-Fi."""
    shared = from_address(client, "203.0.113.10")
    wrong = [ask(shared, UNKNOWN.format(i), "sai").status_code for i in range(40)]
    assert set(wrong) == {404}
    assert ask(shared, dossier["code"], dossier["secret"]).status_code == 200


def test_guessing_one_code_is_slowed_from_every_address(client, clock, dossier):
    code = dossier["code"]
    statuses = [ask(from_address(client, f"198.51.100.{i}"), code, f"sai{i}").status_code
                for i in range(LOOKUP_CODE_FREE_FAILURES + 1)]
    assert statuses == [404] * LOOKUP_CODE_FREE_FAILURES + [429]
    refused = ask(from_address(client, "192.0.2.1"), code, dossier["secret"])
    assert refused.status_code == 429  # a guess is never confirmed while the code waits
    assert int(refused.headers["Retry-After"]) >= LOOKUP_CODE_FIRST_DELAY.total_seconds()
    assert refused.json()["type"].endswith("/rate-limited")
    # other dossiers from the same addresses are not held up
    assert ask(from_address(client, "198.51.100.1"), UNKNOWN.format(1), "x").status_code == 404
    clock.now += LOOKUP_CODE_FIRST_DELAY + timedelta(seconds=1)
    assert ask(from_address(client, "192.0.2.1"), code, dossier["secret"]).status_code == 200


def test_an_address_guessing_across_many_codes_is_slowed(client, clock, dossier):
    sprayer = from_address(client, "203.0.113.20")
    for i in range(LOOKUP_ADDRESS_FREE_FAILURES):
        assert ask(sprayer, UNKNOWN.format(i), "sai").status_code == 404
    assert ask(sprayer, UNKNOWN.format(9999), "sai").status_code == 429
    assert ask(from_address(client, "203.0.113.21"), dossier["code"],
               dossier["secret"]).status_code == 200  # another address is not


def test_a_secret_typed_in_the_printed_groups_of_four_is_accepted(client, clock, dossier):
    secret = dossier["secret"]
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    assert ask(client, dossier["code"], f" {grouped} ").status_code == 200


def page(client, code: str, secret: str):
    return client.get("/tra-cuu", params={"ma": code, "k": secret})


def test_the_lookup_page_keeps_the_same_limits_as_the_api(client, clock, dossier):
    """The page /tra-cuu (the receipt's QR) used its own per-address count of every lookup:
    after 30 from a shared address the right secret was refused there too."""
    shared = from_address(client, "203.0.113.30")
    assert {page(shared, UNKNOWN.format(i), "sai").status_code for i in range(40)} == {404}
    opened = page(shared, dossier["code"], dossier["secret"])
    assert opened.status_code == 200 and dossier["code"] in opened.text
    code = dossier["code"]
    for i in range(LOOKUP_CODE_FREE_FAILURES):
        page(from_address(client, f"198.51.100.{i}"), code, "sai")
    slowed = page(from_address(client, "192.0.2.9"), code, dossier["secret"])
    assert slowed.status_code == 429 and "Retry-After" in slowed.headers
    assert "Bạn tra cứu quá nhiều lần" in slowed.text
