"""The command-line contract: `motcua deadline` and `motcua replay` answer the worked cases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app

runner = CliRunner()


def cli(*args: str, stdin: str | None = None):
    result = runner.invoke(app, list(args), input=stdin)
    return result


def deadline(received: str, limit: float, unit: str) -> dict:
    result = cli("deadline", "--received", received, "--limit", str(limit), "--unit", unit)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("received", "limit", "unit", "due", "due_at"),
    [
        ("2024-11-04T09:15", 3, "working_days", "2024-11-07", None),
        ("2024-11-15T10:00", 5, "working_days", "2024-11-22", None),
        ("2024-08-29T14:00", 3, "working_days", "2024-09-05", None),
        ("2024-02-07T09:00", 5, "working_days", "2024-02-21", None),
        ("2024-04-26T09:00", 3, "working_days", "2024-05-04", None),
        ("2026-03-12T10:45", 2, "working_hours", "2026-03-12", "2026-03-12T14:45:00+07:00"),
        ("2026-03-12T16:15", 2, "working_hours", "2026-03-13", "2026-03-13T08:45:00+07:00"),
        ("2026-04-29T16:00", 2, "working_hours", "2026-05-04", "2026-05-04T08:30:00+07:00"),
        ("2025-04-29T09:00", 2, "working_days", "2025-05-06", None),
        ("2025-04-25T09:00", 2, "working_days", "2025-04-28", None),
        ("2025-01-24T16:10", 10, "working_days", "2025-02-14", None),
        ("2025-12-11T14:50", 0, "same_day", "2025-12-11", None),
        ("2025-12-11T15:30", 0, "same_day", "2025-12-12", None),
        ("2025-12-12T15:45", 0, "same_day", "2025-12-15", None),
        ("2026-03-07T09:00", 2, "working_days", "2026-03-10", None),
        ("2025-12-31T16:00", 0, "same_day", "2026-01-05", None),
        ("2026-01-07T09:00", 3, "working_days", "2026-01-10", None),
        ("2025-12-30T09:00", 5, "working_days", "2026-01-08", None),
        ("2026-03-16T08:30", 3, "working_days", "2026-03-19", None),
    ],
)
def test_deadline_command_answers_every_worked_case(received, limit, unit, due, due_at):
    out = deadline(received, limit, unit)
    assert out["due"] == due
    if due_at:
        assert out["due_at"] == due_at
    assert out["explanation"]["text"]


def test_deadline_explanation_lists_skipped_tet_days():
    out = deadline("2025-01-24T16:10", 10, "working_days")
    skipped = {d["date"]: d["reason"] for d in out["explanation"]["skipped"]}
    assert "2025-01-29" in skipped and "Tết" in skipped["2025-01-29"]
    assert "14/02/2025" in out["explanation"]["text"]


def test_deadline_rejects_a_bad_instant_with_a_clear_message():
    result = cli("deadline", "--received", "hôm qua", "--limit", "3")
    assert result.exit_code == 2
    assert "Lỗi" in result.stderr and "Traceback" not in result.output


def test_deadline_outside_the_calendar_is_a_clear_error():
    result = cli("deadline", "--received", "2090-01-01T09:00", "--limit", "3")
    assert result.exit_code == 2 and "phạm vi" in result.stderr


def replay_file(tmp_path: Path, payload: object) -> Path:
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def test_replay_reports_restart_apology_and_both_classifications(tmp_path):
    path = replay_file(tmp_path, {
        "limit": 3, "unit": "working_days", "supplement_effect": "restart",
        "events": [
            {"at": "2024-11-04T09:15", "kind": "received"},
            {"at": "2024-11-05T10:00", "kind": "supplement_requested"},
            {"at": "2024-11-11T14:00", "kind": "supplement_received"},
            {"at": "2024-11-12T09:00", "kind": "apology", "reason": "Chờ ý kiến",
             "new_due": "2024-11-19"},
            {"at": "2024-11-18T10:00", "kind": "result_ready"},
            {"at": "2024-11-19T08:00", "kind": "returned"},
        ],
    })
    result = cli("replay", str(path))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["original_due"] == "2024-11-07"
    assert out["due"] == "2024-11-14"
    assert out["appointment"] == "2024-11-19"
    assert out["classification"] == "late"
    assert out["indicator_classification"] == "late"
    assert out["apologies"][0]["in_time"] is True


def test_replay_pending_at_period_end(tmp_path):
    path = replay_file(tmp_path, {
        "limit": 10, "unit": "working_days",
        "events": [{"at": "2025-01-24T16:10", "kind": "received"}],
        "period_end": "2025-02-14T23:00",
    })
    out = json.loads(cli("replay", str(path)).stdout)
    assert out["classification"] == "pending_within"
    assert out["indicator_classification"] == "pending_within"


def test_replay_reads_standard_input():
    payload = json.dumps({"limit": 0, "unit": "same_day",
                          "events": [{"at": "2025-12-11T15:30", "kind": "received"},
                                     {"at": "2025-12-12T09:00", "kind": "result_ready"}]})
    out = json.loads(cli("replay", "-", stdin=payload).stdout)
    assert out["due"] == "2025-12-12" and out["classification"] == "on_time"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "JSON không hợp lệ ở dòng 1"),
        ({"limit": 3, "unit": "fortnights", "events": []}, "'unit' không hợp lệ"),
        ({"limit": "ba", "unit": "working_days", "events": []}, "'limit' phải là một số"),
        ({"limit": 3, "unit": "working_days", "events": []}, "'events'"),
        ({"limit": 3, "unit": "working_days", "events": [{"at": "x", "kind": "received"}]},
         "thời điểm không hợp lệ"),
        ({"limit": 3, "unit": "working_days", "events": [{"at": "2024-11-04T09:00",
                                                          "kind": "teleported"}]},
         "loại sự kiện không hợp lệ"),
        ({"limit": 3, "unit": "working_days", "events": [{"at": "2024-11-04T09:00",
                                                          "kind": "result_ready"}]},
         "received"),
    ],
)
def test_replay_invalid_files_get_a_clear_error_and_nonzero_exit(tmp_path, payload, message):
    path = tmp_path / "bad.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload), "utf-8")
    result = cli("replay", str(path))
    assert result.exit_code == 2
    assert message in result.stderr


def test_replay_missing_file_is_a_clear_error(tmp_path):
    result = cli("replay", str(tmp_path / "nope.json"))
    assert result.exit_code == 2 and "không đọc được tệp" in result.stderr


def test_installed_console_script_prints_json():
    exe = shutil.which("motcua", path=str(Path(sys.executable).parent))
    assert exe, "the motcua console script is installed with the package"
    proc = subprocess.run([exe, "deadline", "--received", "2025-01-24T16:10", "--limit", "10",
                           "--unit", "working_days"], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["due"] == "2025-02-14"
