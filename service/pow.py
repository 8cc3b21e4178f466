"""Proof of work for the public submission form (*chống lạm dụng*), with no third party.

Why: the online form is open to anyone without an account, and every submission stores files
and writes a dossier. A CAPTCHA service would send citizens' visits to a third party; a small
hashcash instead makes each submission cost the sender's device about a second of work, and
costs the server one hash to check.

How:

- the server issues a challenge ``<id>.<expires>.<bits>.<mac>``: a random id, the expiry
  (Unix seconds), the difficulty and an HMAC-SHA256 of the three with the service's signing
  key — nothing is stored when issuing, so asking for challenges costs the server nothing;
- the page's script finds a ``nonce`` such that SHA-256(``challenge:nonce``) starts with
  ``bits`` zero bits (``crypto.subtle.digest``), and sends both with the submission
  (headers ``X-PoW-Challenge`` and ``X-PoW-Nonce``);
- the server checks the MAC, the expiry and the hash, then records the id in
  ``pow_challenge_used`` (migration 0016): a solved challenge is spent once — a replay is
  refused even within its lifetime. Spent ids are deleted once expired (by one spend in
  :data:`SWEEP_EVERY`: a statement fewer for the others).

Settings: ``MOTCUA_POW_BITS`` (default 16, about 65,000 hashes: under a second or two on a
phone) and ``MOTCUA_POW_MINUTES`` (the challenge's lifetime, default 10).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from engine.settings import positive_number

DEFAULT_BITS = 16
DEFAULT_MINUTES = 10
MAX_BITS = 32
#: One spend in this many (per process) also deletes the expired spent ids.
SWEEP_EVERY = 50
_spends = itertools.count(1)
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class UsedChallenge(SQLModel, table=True):
    """A solved challenge already spent (migration 0016): the replay guard."""

    __tablename__ = "pow_challenge_used"

    id: str = Field(primary_key=True, max_length=32)
    expires_at: datetime = Field(index=True)
    used_at: datetime


@dataclass(frozen=True, slots=True)
class PowSettings:
    bits: int
    lifetime: timedelta

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PowSettings:
        bits = int(positive_number(env, "MOTCUA_POW_BITS", DEFAULT_BITS))
        return cls(bits=min(bits, MAX_BITS),
                   lifetime=timedelta(minutes=positive_number(env, "MOTCUA_POW_MINUTES",
                                                              DEFAULT_MINUTES)))


class PowRefused(ValueError):
    """A missing, forged, expired, unsolved or reused challenge; the message is Vietnamese."""

    def __init__(self, message: str, code: str = "pow-invalid") -> None:
        super().__init__(message)
        self.code = code


def _mac(key: str, body: str) -> str:
    return hmac.new(key.encode(), b"pow|" + body.encode(), hashlib.sha256).hexdigest()[:32]


def issue(key: str, now: datetime, settings: PowSettings) -> dict[str, object]:
    """A new challenge (stored nowhere) with its difficulty and expiry."""
    expires = int((now + settings.lifetime).timestamp())
    body = f"{secrets.token_hex(8)}.{expires}.{settings.bits}"
    return {"challenge": f"{body}.{_mac(key, body)}", "bits": settings.bits,
            "expires_at": datetime.fromtimestamp(expires, UTC).isoformat()}


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits ``digest`` starts with."""
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def solve(challenge: str, bits: int) -> str:
    """A nonce for ``challenge`` (tests and scripts; the page solves it in the browser)."""
    for n in range(1 << (bits + 8)):
        nonce = str(n)
        if leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) >= bits:
            return nonce
    raise RuntimeError("no nonce found")  # pragma: no cover


def check(key: str, challenge: str | None, nonce: str | None, now: datetime,
          settings: PowSettings) -> tuple[str, datetime]:
    """The challenge's id and expiry if ``nonce`` solves a challenge this server issued,
    still valid and at least as hard as the current setting; else :class:`PowRefused`."""
    if not challenge or not nonce:
        raise PowRefused("Thiếu bằng chứng chống gửi tự động; hãy tải lại trang và gửi lại.",
                         "pow-missing")
    parts = challenge.split(".")
    if len(parts) != 4 or len(nonce) > 32 or not hmac.compare_digest(
            _mac(key, ".".join(parts[:3])), parts[3]):
        raise PowRefused("Bằng chứng chống gửi tự động không hợp lệ; hãy tải lại trang.")
    ident, expires_text, bits_text = parts[:3]
    expires = datetime.fromtimestamp(int(expires_text), UTC)
    if expires <= now:
        raise PowRefused("Phiên gửi hồ sơ đã hết hạn; hãy bấm gửi lại.", "pow-expired")
    if int(bits_text) < settings.bits:
        raise PowRefused("Bằng chứng chống gửi tự động không hợp lệ; hãy tải lại trang.")
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    if leading_zero_bits(digest) < int(bits_text):
        raise PowRefused("Bằng chứng chống gửi tự động chưa đúng; hãy tải lại trang.")
    return ident, expires


def spend(session: Session, ident: str, expires: datetime, now: datetime) -> None:
    """Record the challenge as used, in its own transaction (a refused submission still
    spends it: the sender solves a new one); a second use is :class:`PowRefused`."""
    try:
        spend_in(session, ident, expires, now)
    except PowRefused:
        session.rollback()
        raise
    session.commit()


def spend_in(session: Session, ident: str, expires: datetime, now: datetime) -> None:
    """:func:`spend` in the caller's transaction, which stays usable either way (the online
    submission commits its address's rate-limit hit with it): ``INSERT … ON CONFLICT DO
    NOTHING RETURNING`` returns no row for a spent id — :class:`PowRefused` — and a concurrent spend
    of the same id waits for the first to commit, then inserts none. The caller commits."""
    if next(_spends) % SWEEP_EVERY == 1:  # the first spend of a process too
        session.execute(delete(UsedChallenge).where(col(UsedChallenge.expires_at) < now))
    insert = _INSERT[session.get_bind().dialect.name]
    added = session.execute(insert(UsedChallenge).values(id=ident, expires_at=expires,
                                                         used_at=now)
                            .on_conflict_do_nothing(index_elements=["id"])
                            .returning(UsedChallenge.id)).first()
    if added is None:  # (RETURNING: an INSERT's rowcount is -1 with psycopg, engine.outbox)
        raise PowRefused("Bằng chứng chống gửi tự động đã được dùng; hãy tải lại trang và "
                         "gửi lại.", "pow-reused")
