"""scripts/probe.py, the outside probe of issue 12, run as a maintainer runs it: a real
``motcua serve`` on SQLite, checked over loopback sockets.

Only the quick checks (one server, a few dozen requests: about 10 s); the full probe, with
its second server, its 10 MB bodies and PostgreSQL's dropped connections, is run by hand
(``.venv/bin/python scripts/probe.py [--database-url postgresql://…]``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).parents[2] / "scripts" / "probe.py"
QUICK = [1, 2, 5, 6, 11]


def run_probe(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PROBE), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=PROBE.parents[1])


def test_the_quick_probe_checks_find_every_hole_closed_on_sqlite():
    run = run_probe("--only", ",".join(map(str, QUICK)), "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["database"] == "sqlite"
    assert [c["check"] for c in report["checks"]] == QUICK
    assert [c for c in report["checks"] if c["status"] != "CLOSED"] == []
    assert report["open"] == []


def test_an_unknown_check_number_is_refused_before_any_server_starts():
    run = run_probe("--only", "1,99", timeout=30)
    assert run.returncode == 2  # a usage error, not "a hole is open" (1)
    assert "99" in run.stderr
