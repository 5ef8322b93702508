"""What one heartbeat costs the API server: CPU per WorkflowRun status patch.

On the local control plane (no operator), N WorkflowRuns get merge patches of
`status.lastHeartbeatTime` at a steady rate, with one watcher on them (as the
operator is); the kube-apiserver's CPU over the stretch is divided by the patches
that succeeded. The same load then goes to the same runs with the CRD's CEL rules
removed, and to N coordination.k8s.io Leases (`spec.renewTime`: what a kubelet's
heartbeat writes). Prints each cost and the ratios; with `--profile-dir` the
apiserver's CPU profile of each stretch is saved there (`go tool pprof -top FILE`).

    .venv/bin/python benchmarks/apiserver_patch_cost.py --objects 2000 --rate 200 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from heartbeats import NAMESPACE, RUNS_PATH, cpu_seconds, run_body, served_listing, session

from localcluster.controlplane import ControlPlane
from localcluster.repo import repo_root, use_repo
from localcluster.system import install_crds

use_repo(Path(__file__).resolve().parent.parent)  # the benchmarks live in the checkout

LEASES_PATH = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def now() -> str:
    """The time to microseconds, so no patch repeats its object's value (an unchanged
    object is not written, and would cost the API server less)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_name(i: int) -> str:
    return f"run-{i:05d}"


@dataclass(frozen=True)
class Target:
    """One kind of heartbeat write: where object i lives and the patch that renews it."""

    label: str
    collection: str
    url: Callable[[int], str]
    body: Callable[[], dict[str, Any]]


RUN_STATUS = Target(
    "WorkflowRun status",
    RUNS_PATH,
    lambda i: f"{RUNS_PATH}/{run_name(i)}/status",
    lambda: {"status": {"lastHeartbeatTime": now()}},
)
LEASE = Target("Lease", LEASES_PATH, lambda i: f"{LEASES_PATH}/lease-{i:05d}", lambda: {"spec": {"renewTime": now()}})


def without_cel_rules(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_cel_rules(v) for k, v in node.items() if k != "x-kubernetes-validations"}
    if isinstance(node, list):
        return [without_cel_rules(v) for v in node]
    return node


class Probe:
    def __init__(self, http: aiohttp.ClientSession, server: str, apiserver_pid: int, args: argparse.Namespace) -> None:
        self.http, self.server, self.pid, self.args = http, server, apiserver_pid, args

    async def _send(
        self, method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> int:
        data = None if body is None else json.dumps(body)
        async with self.http.request(method, f"{self.server}{url}", data=data, headers=headers) as reply:
            await reply.read()
            return reply.status

    async def create(self) -> None:
        """N runs reporting Running and N Leases, 32 requests at a time; every one must succeed."""
        await served_listing(self.http, self.server)
        limit, refused = asyncio.Semaphore(32), []
        json_type = {"Content-Type": "application/json"}

        async def one(i: int) -> None:
            async with limit:
                running = {"status": {"phase": "Running", "state": "Running", "lastHeartbeatTime": now()}}
                lease = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": f"lease-{i:05d}"},
                    "spec": {"holderIdentity": run_name(i), "leaseDurationSeconds": 90, "renewTime": now()},
                }
                for status in (
                    await self._send("POST", RUNS_PATH, run_body(run_name(i), 90), json_type),
                    await self._send("PATCH", RUN_STATUS.url(i), running, MERGE_PATCH),
                    await self._send("POST", LEASES_PATH, lease, json_type),
                ):
                    if status not in (200, 201):
                        refused.append(status)

        await asyncio.gather(*(one(i) for i in range(self.args.objects)))
        if refused:
            raise SystemExit(f"{len(refused)} set-up requests refused (HTTP {sorted(set(refused))})")

    async def _watch(self, collection: str) -> None:
        async with self.http.get(f"{self.server}{collection}", params={"limit": "1"}) as reply:
            version = (await reply.json())["metadata"]["resourceVersion"]
        forever = aiohttp.ClientTimeout(total=None, sock_read=None)
        params = {"watch": "1", "resourceVersion": version}
        async with self.http.get(f"{self.server}{collection}", params=params, timeout=forever) as reply:
            async for _ in reply.content:
                pass

    async def _profile(self, path: Path) -> None:
        seconds = max(1, int(self.args.seconds) - 5)
        wait = aiohttp.ClientTimeout(total=seconds + 60)
        async with self.http.get(
            f"{self.server}/debug/pprof/profile", params={"seconds": str(seconds)}, timeout=wait
        ) as reply:
            path.write_bytes(await reply.read())

    async def stretch(self, target: Target, name: str) -> float:
        """`--rate` patches a second for `--seconds`; the apiserver's ms of CPU per patch."""
        watcher = asyncio.create_task(self._watch(target.collection))
        profile_dir: Path | None = self.args.profile_dir
        profiler = asyncio.create_task(self._profile(profile_dir / f"{name}.pprof")) if profile_dir else None
        limit, outcomes, pending = asyncio.Semaphore(64), {"ok": 0, "failed": 0}, set()

        async def patch(i: int) -> None:
            async with limit:
                status = await self._send("PATCH", target.url(i % self.args.objects), target.body(), MERGE_PATCH)
                outcomes["ok" if status == 200 else "failed"] += 1

        cpu_before, start, sent = cpu_seconds(self.pid), time.monotonic(), 0
        while time.monotonic() - start < self.args.seconds:
            await asyncio.sleep(max(0.0, start + sent / self.args.rate - time.monotonic()))  # pacing: the load
            task = asyncio.create_task(patch(sent))
            pending.add(task)
            task.add_done_callback(pending.discard)
            sent += 1
        await asyncio.gather(*pending)
        used, elapsed = cpu_seconds(self.pid) - cpu_before, time.monotonic() - start
        if profiler:
            await profiler
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        per_patch = 1000 * used / max(1, outcomes["ok"])
        print(
            f"{target.label} ({name}): {outcomes['ok']} patches, {outcomes['failed']} failed, "
            f"{outcomes['ok'] / elapsed:.0f}/s; kube-apiserver {used:.1f} s CPU = {per_patch:.2f} ms a patch",
            flush=True,
        )
        return per_patch


async def measure(plane: ControlPlane, args: argparse.Namespace, workdir: Path) -> None:
    http, server = session(plane.mint_user("bench", ["system:masters"]), workdir)
    apiserver = next(p.pid for p in plane.processes if p.name == "kube-apiserver")
    probe = Probe(http, server, apiserver, args)
    try:
        await probe.create()
        print(f"created {args.objects} WorkflowRuns and {args.objects} Leases", flush=True)
        costs = {"as shipped": await probe.stretch(RUN_STATUS, "workflowrun")}
        crd = yaml.safe_load((repo_root() / "crds" / "workflowruns.tracker.dev.yaml").read_text())
        stripped = workdir / "workflowruns-without-cel.yaml"
        stripped.write_text(yaml.safe_dump(without_cel_rules(crd)))
        plane.kubectl("apply", "-f", str(stripped))
        costs["without CEL rules"] = await probe.stretch(RUN_STATUS, "workflowrun-nocel")
        costs["Lease"] = await probe.stretch(LEASE, "lease")
    finally:
        await http.close()
    base = costs["as shipped"]
    print(
        f"WorkflowRun status patch / without CEL rules: {base / costs['without CEL rules']:.2f}x; "
        f"/ Lease renewal: {base / costs['Lease']:.2f}x"
    )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000, help="WorkflowRuns (and Leases) patched in turn")
    parser.add_argument("--rate", type=float, default=200, help="patches a second")
    parser.add_argument("--seconds", type=float, default=30, help="length of each measured stretch")
    parser.add_argument("--profile-dir", type=Path, default=None, help="save the apiserver's CPU profiles here")
    args = parser.parse_args()
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        plane = ControlPlane(state_dir=workdir / "controlplane", profiling=True).start()
        try:
            install_crds(plane)
            plane.kubectl("create", "namespace", NAMESPACE)
            asyncio.run(measure(plane, args, workdir))
        finally:
            plane.stop()


if __name__ == "__main__":
    main()
