"""`localcluster run`, what the README's `scripts/run` starts: the whole local system
in the foreground with demo runs in every state, printed URLs and commands that work,
and a teardown on Ctrl-C that leaves no process behind, also when interrupted while
starting.

Every process of the system either inherits the environment marker the test sets, or
names the state directory in its command line or working directory; after the
teardown no live process may carry either.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixtures.localsystem import MARKER, START_TIMEOUT, LocalRun, wait_for_api_url

from localcluster.processes import wait_until
from localcluster.repo import repo_root

pytestmark = pytest.mark.cluster

# run name -> (state, outputs) once the demo has settled
EXPECTED = {
    "rnaseq-demo-001": ("Running", None),
    "chipseq-demo-002": ("Disconnected", None),
    "methylseq-demo-003": ("Stalled", None),
    "variant-calling-007": ("Succeeded", "indexed"),
    "atacseq-demo-005": ("Succeeded", "deleted"),
    "sad_einstein": ("Failed", "indexed"),
}
SETTLE_TIMEOUT = 180.0


# -- processes, from /proc ------------------------------------------------------------
@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    started: int  # clock ticks after boot: tells a reused pid apart
    zombie: bool


def _stat(pid: int) -> Proc | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return Proc(pid, int(fields[1]), int(fields[2]), int(fields[19]), fields[0] == "Z")


def _all_processes() -> list[Proc]:
    found = (_stat(int(entry.name)) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [p for p in found if p is not None]


def descendants(root: int) -> list[Proc]:
    table = _all_processes()
    children: dict[int, list[Proc]] = {}
    for proc in table:
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def still_alive(procs: list[Proc]) -> list[Proc]:
    """Those of `procs` that still run (same pid and start time, not a zombie)."""
    return [p for p in procs if (now := _stat(p.pid)) is not None and now.started == p.started and not now.zombie]


def _belongs(pid: int, state_dir: Path, marker: str) -> bool:
    base = Path(f"/proc/{pid}")
    try:
        environ = (base / "environ").read_bytes().split(b"\0")
        cmdline = (base / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        cwd = os.readlink(base / "cwd")
    except OSError:
        return False
    return f"{MARKER}={marker}".encode() in environ or str(state_dir) in cmdline or cwd.startswith(str(state_dir))


def leftovers(run: LocalRun) -> list[int]:
    """Live processes of this system: its marker in their environment, or its state
    directory in their command line or working directory."""
    return [
        p.pid
        for p in _all_processes()
        if not p.zombie and p.pid != os.getpid() and _belongs(p.pid, run.state_dir, run.marker)
    ]


def recorded_pids(state_dir: Path) -> list[int]:
    """The pids the state directory records: the components' and the control plane's."""
    system = json.loads((state_dir / "system.json").read_text())
    plane = json.loads((state_dir / "controlplane" / "controlplane.json").read_text())
    return [*system["pids"].values(), *plane["pids"]]


# -- the demo through the read API -------------------------------------------------------
def _outputs(outputs: dict[str, Any]) -> str | None:
    if outputs["deleted"]:
        return "deleted"
    return "indexed" if outputs["count"] > 0 else None


def demo_states(api_url: str) -> dict[str, tuple[str, str | None]]:
    page = httpx.get(f"{api_url}/api/v1/runs", params={"namespace": "demo", "limit": 100}, timeout=10).json()
    return {r["runName"]: (r["state"], _outputs(r["outputs"])) for r in page["items"]}


def run_detail(api_url: str, run: str) -> dict[str, Any]:
    response = httpx.get(f"{api_url}/api/v1/runs/{run}", params={"namespace": "demo"}, timeout=10)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def printed_commands(text: str) -> list[str]:
    """The commands under "In another shell:", comments dropped (the eval line first)."""
    block = text.split("In another shell:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines()]


# -- tests ---------------------------------------------------------------------------------
def test_run_seeds_every_state_prints_working_commands_and_ctrl_c_stops_everything(local_run: LocalRun) -> None:
    api_url = wait_for_api_url(local_run)

    def settled() -> bool:
        local_run.alive()
        return demo_states(api_url) == EXPECTED

    try:
        wait_until(settled, timeout=SETTLE_TIMEOUT, what="every demo run to reach its state", interval=1)
    except TimeoutError:
        pytest.fail(f"demo runs: {demo_states(api_url)}\n{local_run.text()}")
    failed = run_detail(api_url, "sad_einstein")
    assert [e["phase"] for e in failed["executions"]] == ["Failed", "Failed"], "resumed once, failed twice"
    assert "exit status (137)" in failed["executions"][1]["errorMessage"]
    assert failed["errorMessage"] == failed["executions"][0]["errorMessage"]

    # The live run keeps reporting: a heartbeat later, more of its tasks have finished.
    live = run_detail(api_url, "rnaseq-demo-001")
    succeeded = sum(p["succeeded"] for p in live["processes"])
    wait_until(
        lambda: sum(p["succeeded"] for p in run_detail(api_url, "rnaseq-demo-001")["processes"]) > succeeded,
        timeout=30,
        what="the live run's next heartbeat with progress",
    )
    assert run_detail(api_url, "rnaseq-demo-001")["lastHeartbeatAt"] > live["lastHeartbeatAt"]

    text = local_run.text()
    for url in (
        r"Kubernetes API\s+https://127\.0\.0\.1:\d+",
        r"S3 \(moto\)\s+http://127\.0\.0\.1:\d+",
        f"Swagger UI +{api_url}/api/v1/swagger-ui",
        f"Runs page +{api_url}/runs\n",
        f"Run Detail +{api_url}/runs/rnaseq-demo-001",
    ):
        assert re.search(url, text), f"{url!r} not printed"
    assert "Every demo run is in its state" in text
    commands = printed_commands(text)
    assert commands[0].startswith('eval "$(.venv/bin/localcluster env --state-dir ')
    assert any(c.startswith("kubectl get wfr -n demo") for c in commands)
    assert any(re.match(r"tracker .*outputs delete \S+ --wait", c) for c in commands)
    for command in commands[1:]:
        done = subprocess.run(
            ["bash", "-c", f"set -euo pipefail; {commands[0]}; {command}"],
            cwd=repo_root(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        assert done.stdout.strip(), f"{command}: {done.stdout}{done.stderr}"

    pids = recorded_pids(local_run.state_dir)
    before = descendants(local_run.popen.pid)
    assert set(pids) <= {p.pid for p in before}, "every recorded process is one this command started"
    groups = {p.pgid for p in before}
    assert local_run.ctrl_c() == 0
    assert local_run.text().rstrip().endswith("Local system stopped: no process left, state record removed.")
    assert still_alive(before) == []
    assert [p.pid for p in _all_processes() if p.pgid in groups and not p.zombie] == []
    assert leftovers(local_run) == []
    assert not (local_run.state_dir / "system.json").exists()


def test_ctrl_c_while_starting_stops_what_had_started(local_run: LocalRun) -> None:
    plane_state = local_run.state_dir / "controlplane" / "controlplane.json"

    def plane_started() -> bool:
        local_run.alive()
        return plane_state.exists()

    wait_until(plane_started, timeout=START_TIMEOUT, what="the control plane to start", interval=0.2)
    assert "Read API" not in local_run.text(), "still starting"
    assert leftovers(local_run), "the control plane's processes run"
    assert local_run.ctrl_c() == 0
    assert "Local system stopped" in local_run.text()
    assert leftovers(local_run) == []
    assert not (local_run.state_dir / "system.json").exists()
