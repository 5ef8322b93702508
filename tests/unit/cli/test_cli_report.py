"""`tracker report phase`: the status patch each phase change sends."""

from __future__ import annotations

import pytest

from tracker.cli.report import phase_report
from tracker.domain.records import Phase

NOW = "2026-05-13T19:00:00Z"


def test_running_starts_an_execution_and_clears_the_last_ones_end() -> None:
    assert phase_report(Phase.RUNNING, NOW) == {
        "phase": "Running",
        "lastHeartbeatTime": NOW,
        "startedAt": NOW,
        "completedAt": None,
        "errorMessage": None,
    }


@pytest.mark.parametrize("phase", [p for p in Phase if p.terminal])
def test_a_terminal_phase_stamps_completion(phase: Phase) -> None:
    report = phase_report(phase, NOW, "BWA_MEM exited 137" if phase == Phase.FAILED else None)
    assert report["completedAt"] == NOW
    assert "startedAt" not in report
    assert report.get("errorMessage") == ("BWA_MEM exited 137" if phase == Phase.FAILED else None)


def test_submitted_touches_neither_start_nor_end() -> None:
    assert phase_report(Phase.SUBMITTED, NOW) == {"phase": "Submitted", "lastHeartbeatTime": NOW}
