"""How long the Run Detail page of a 10,000-task run takes to render, against the read
API serving the same run's 10,000 task records as JSON.

    .venv/bin/python benchmarks/run_detail_page.py                    # 10,000 tasks, 20 rounds
    .venv/bin/python benchmarks/run_detail_page.py --tasks 2000 --rounds 5

The run is reported the way Nextflow reports it: `tracker-api` (one uvicorn process,
static-token auth, access logs off, a fresh SQLite index) receives `create`, `begin`,
`progress` calls of 100 task records each and `complete` through its own trace
receiver over HTTP. The tasks spread over 12 processes; 5 % are cached, 3 % failed and
retried (a second attempt follows), every record carries requested and used resources.

Targets: `GET /runs/{run}` for each tab the run has (`?tab=`: the page renders every
eager tab's panel — Overview with the process and task tables and the cards, Cost &
Performance, Config & Params, Notes, Outputs, Lifecycle jobs — plus the asked-for lazy
one: the Task Timeline's SVG of every attempt, or the Logs), the tasks view (plain, and
searched and sorted) and a Process Detail page. Peer: the read API's JSON of the
same run, `GET /api/v1/runs/{run}` plus `GET /api/v1/runs/{run}/tasks` 10 pages of
1,000 (every task record once): the same stack and index serving the same data with
no rendering. Requests are sequential (one client, keep-alive), after 2 warm-up
rounds; each timed from sending to the last byte. Printed: median / p95 / max per
target, the page's size, the ratio page/peer, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]  # see api_load.py

import httpx  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tower_ingest import TOKEN, tracker_api  # noqa: E402  (the same server process)

PROCESSES = [f"NFCORE_SAREK:SAREK:STEP_{i:02d}" for i in range(12)]
BATCH = 100  # the most task records a progress call may carry (as Nextflow sends)
RUN_NAME = "big_run"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def task_record(task_id: int, tasks: int, origin_ms: int) -> dict[str, Any]:
    """Task `task_id` of `tasks` as a finished trace record: cached, a failed first
    attempt, or completed."""
    process = PROCESSES[task_id * len(PROCESSES) // (tasks + 1)]
    submit = origin_ms + task_id * 700
    start, runtime = submit + 20_000, 60_000 + (task_id % 97) * 1_000
    status = "CACHED" if task_id % 20 == 0 else "FAILED" if task_id % 33 == 0 else "COMPLETED"
    return {
        "taskId": task_id,
        "status": status,
        "hash": f"{task_id % 256:02x}/{task_id:06x}",
        "name": f"{process} (sample_{task_id})",
        "process": process,
        "tag": f"sample_{task_id}",
        "attempt": 1,
        "nativeId": f"job-{task_id}",
        "submit": iso(submit),
        "start": iso(start),
        "complete": iso(start + runtime),
        "exit": 137 if status == "FAILED" else 0,
        "errorAction": "RETRY" if status == "FAILED" else None,
        "cpus": 4,
        "memory": 8 << 30,
        "time": 3_600_000,
        "duration": runtime + 20_000,
        "realtime": runtime,
        "pcpu": 150.0 + task_id % 200,
        "peakRss": (1 << 30) + (task_id % 64 << 24),
        "readBytes": 1 << 32,
        "writeBytes": 1 << 30,
        "workdir": f"s3://bench-scratch/work/{task_id % 256:02x}/{task_id:030x}",
        "executor": "awsbatch",
        "machineType": "m6i.2xlarge",
    }


def retry_of(record: dict[str, Any], task_id: int) -> dict[str, Any]:
    return record | {"taskId": task_id, "attempt": 2, "status": "COMPLETED", "exit": 0, "errorAction": None}


def report_run(client: httpx.Client, tasks: int) -> str:
    """The run through the receiver: create, begin, progress batches, complete. Its id."""
    now = int(time.time() * 1000)
    origin = now - tasks * 700 - 200_000
    created = client.post(
        "/tower/trace/create",
        json={"sessionId": "bench-session", "runName": RUN_NAME, "projectName": "nf-core/sarek", "instant": now},
    )
    created.raise_for_status()
    workflow_id = created.json()["workflowId"]
    workflow = {
        "id": workflow_id,
        "runName": RUN_NAME,
        "sessionId": "bench-session",
        "projectName": "nf-core/sarek",
        "repository": "https://github.com/nf-core/sarek",
        "revision": "3.4.0",
        "commitId": "0123456789abcdef0123456789abcdef01234567",
        "workDir": "s3://bench-scratch/work",
        "outputDir": "s3://bench-results/big_run",
        "start": iso(origin),
        "params": {"input": "samplesheet.csv", "genome": "GRCh38"},
        "commandLine": "nextflow run nf-core/sarek -r 3.4.0",
    }
    client.put(f"/tower/trace/{workflow_id}/begin", json={"workflow": workflow, "instant": now}).raise_for_status()
    records: list[dict[str, Any]] = []
    next_id = tasks + 1
    for task_id in range(1, tasks + 1):
        record = task_record(task_id, tasks, origin)
        records.append(record)
        if record["status"] == "FAILED":
            records.append(retry_of(record, next_id))
            next_id += 1
    for first in range(0, len(records), BATCH):
        body = {"tasks": records[first : first + BATCH], "progress": {}, "instant": now}
        answer = client.put(f"/tower/trace/{workflow_id}/progress", json=body)
        if answer.status_code >= 400:
            raise SystemExit(f"progress refused: {answer.status_code} {answer.text[:500]}")
    done = workflow | {"complete": iso(now), "success": True, "exitStatus": 0, "duration": now - origin}
    client.put(
        f"/tower/trace/{workflow_id}/complete", json={"workflow": done, "metrics": [], "progress": {}, "instant": now}
    ).raise_for_status()
    found = client.get(f"/api/v1/runs/{RUN_NAME}", headers=AUTH)
    found.raise_for_status()
    return str(found.json()["id"])


def timed(client: httpx.Client, paths: list[str]) -> tuple[float, int]:
    started, size = time.perf_counter(), 0
    for path in paths:
        answer = client.get(path, headers=AUTH)
        answer.raise_for_status()
        size += len(answer.content)
    return time.perf_counter() - started, size


def summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TRACKER_DATABASE_URL": f"sqlite:///{Path(tmp) / 'index.db'}", "TRACKER_TOWER__RUNS": "index"}
        with tracker_api(env) as (base, _server), httpx.Client(base_url=base, timeout=120, headers=AUTH) as client:
            started = time.perf_counter()
            run_id = report_run(client, args.tasks)
            print(f"reported {args.tasks:,} tasks in {time.perf_counter() - started:.1f} s (run {run_id})")
            page = client.get(f"/runs/{run_id}", headers=AUTH)
            tabs = sorted(set(_tab_keys(page.text)))
            peer = [f"/api/v1/runs/{run_id}"] + [
                f"/api/v1/runs/{run_id}/tasks?limit=1000&offset={o}" for o in range(0, args.tasks, 1000)
            ]
            targets = {f"page ?tab={tab}": [f"/runs/{run_id}?tab={tab}"] for tab in tabs}
            targets["tasks view (50 a page)"] = [f"/runs/{run_id}/tasks"]
            targets["tasks view, searched and sorted"] = [f"/runs/{run_id}/tasks?q=sample_99&sort=-duration_ms"]
            targets["Process Detail"] = [f"/runs/{run_id}/processes/{quote(PROCESSES[0], safe='')}"]
            targets["peer: run JSON + every task as JSON"] = peer
            results: dict[str, tuple[list[float], int]] = {}
            for name, paths in targets.items():
                for _ in range(2):
                    timed(client, paths)
                rounds = [timed(client, paths) for _ in range(args.rounds)]
                results[name] = ([s for s, _ in rounds], rounds[-1][1])
                print(f"{name:40s} {summary(results[name][0])}, {results[name][1] / 1024:.0f} KiB")
            floor = statistics.median(results["peer: run JSON + every task as JSON"][0])
            for name in ("page ?tab=overview", "page ?tab=timeline"):
                print(f"ratio {name} / peer (medians): {statistics.median(results[name][0]) / floor:.2f}x")
            print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _tab_keys(html: str) -> list[str]:
    return [part.split('"', 1)[0] for part in html.split('data-tab="')[1:]]


if __name__ == "__main__":
    sys.exit(main())
