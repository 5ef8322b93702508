"""An OutputLifecycleJob's conditions, derived from its phase, reason and message.

Every writer of a job's phase (admission, index-only operations, the worker, the
Kubernetes-Job-failed path) applies `job_conditions`, so the conditions always agree
with the phase:

- `Admitted`: True once the operator took the job on (False when it refused it);
- `Running`: True while the worker runs;
- `Succeeded` / `Failed`: True in that final phase.

Each carries the phase's reason and message. Condition types this module does not own
(e.g. the worker pod's `WorkerStarted`) are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from tracker.domain.conditions import Condition, Desired, apply, is_true
from tracker.domain.records import JobPhase

ADMITTED = "Admitted"
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
TYPES = (ADMITTED, RUNNING, SUCCEEDED, FAILED)
_NOT_REASON = re.compile(r"[^A-Za-z0-9_,:]")


def condition_reason(reason: str | None, fallback: str) -> str:
    """`reason` as a metav1.Condition reason (CamelCase identifier), else `fallback`."""
    cleaned = _NOT_REASON.sub("", reason or "").lstrip("0123456789_,:").rstrip(",:")
    return cleaned or fallback


def desired(phase: JobPhase, reason: str | None, message: str | None, *, admitted_before: bool) -> list[Desired]:
    """What each of the job's own conditions should say in `phase`. A job failed before it
    was admitted was refused: `Admitted` is False with the refusal's reason."""
    why, text = condition_reason(reason, phase.value), message or ""
    if admitted_before or phase is not JobPhase.FAILED:
        admitted = Desired(ADMITTED, True, "Admitted", "the operator took the job on")
    else:
        admitted = Desired(ADMITTED, False, why, text)
    return [
        admitted,
        Desired(RUNNING, phase is JobPhase.RUNNING, why, text),
        Desired(SUCCEEDED, phase is JobPhase.SUCCEEDED, why, text),
        Desired(FAILED, phase is JobPhase.FAILED, why, text),
    ]


def job_conditions(
    current: Sequence[Condition], phase: str, reason: str | None, message: str | None, now: datetime
) -> list[Condition]:
    """`current` with the job's own conditions brought in line with its phase."""
    job_phase = JobPhase(phase)
    result = list(current)
    for want in desired(job_phase, reason, message, admitted_before=is_true(current, ADMITTED)):
        result = apply(result, want, now)
    return result
