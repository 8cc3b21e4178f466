"""The load harness still runs end to end, for a few seconds on a small generated database:
every operation of the mix is measured and answered 2xx, and the generated dossiers carry
the service's own hash chain. Nothing is timed or compared here (the goals live in
``bench/load.py``); what this guards against is a schema or API change that would make the
harness fail silently the next time someone runs it at 1,000,000 dossiers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def load_database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database for the harness to generate into: a file, or a fresh schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'load.db'}"
    from tests.conftest import drop_schema, new_schema

    admin = request.getfixturevalue("postgres_admin")  # skips, or fails in CI, without a server
    schema, url = new_schema(admin)
    request.addfinalizer(lambda: drop_schema(admin, schema))
    return url


def _harness(url: str, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MOTCUA_DATABASE_URL"}
    return subprocess.run([sys.executable, "bench/load.py", "--database-url", url,
                           "--dossiers", "1500", "--concurrency", "3", "--duration", "4",
                           "--warmup", "0", "--json", *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_every_operation_of_the_mix_answers_2xx(load_database_url):
    done = _harness(load_database_url, "--strict")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    result = json.loads(done.stdout)
    assert result["dossiers"] == 1500 and result["generation"]["reused"] is False
    for name, figures in result["operations"].items():
        assert figures["count"] >= 1, (name, done.stderr[-3000:])
        assert figures["errors"] == 0, (name, figures["failures"])
        assert all(200 <= int(status) < 300 for status in figures["statuses"]), (name, figures)
        assert figures["p50_ms"] is not None and figures["ratio_to_healthz"] is not None
    assert set(result["goals"]) == {"inbox_p50_vs_healthz", "detail_p50_vs_healthz",
                                    "receipt_p50_vs_healthz", "report_year_p50_vs_healthz"}
    # The generated events chain like the service's own: the audit finds nothing broken.
    exe = shutil.which("motcua", path=str(Path(sys.executable).parent))
    audit = subprocess.run([exe, "audit", "verify"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "MOTCUA_DATABASE_URL": load_database_url},
                           timeout=600)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert " 0 chuỗi bị hỏng" in audit.stdout, audit.stdout

    again = _harness(load_database_url, "--duration", "1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout)["generation"]["reused"] is True
    assert "database reused: 1,500 dossiers" in again.stderr
