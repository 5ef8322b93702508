"""Demo data for the local system: a bucket of published outputs and a few
WorkflowRuns in different phases, reported the way a runner reports them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from localcluster.controlplane import ControlPlane
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import provide_s3_secret

NAMESPACE = "demo"
BUCKET = "demo-outputs"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def demo_runs(now: datetime) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(manifest, status) pairs for the demo WorkflowRuns."""
    def run(name: str, owner: str, cluster: str, engine: str, repo: str) -> dict[str, Any]:
        return {
            "apiVersion": "tracker.dev/v1alpha1",
            "kind": "WorkflowRun",
            "metadata": {"name": name.replace("_", "-"), "namespace": NAMESPACE, "labels": {"project": "demo"}},
            "spec": {
                "runName": name, "owner": owner, "cluster": cluster, "engine": engine,
                "workflow": {"repository": repo, "revision": "main", "commit": "3f2c9e1"},
                "workDir": f"s3://{BUCKET}/work/{name}",
                "outputDir": f"s3://{BUCKET}/runs/{name}/",
                "commandLine": f"nextflow run {repo} -name {name}",
                "params": {"genome": "GRCh38", "samples": 12},
            },
        }

    started = now - timedelta(hours=2)
    return [
        (run("rnaseq-demo-001", "alice", "hpc-a", "nextflow", "https://github.com/nf-core/rnaseq"), {
            "phase": "Running", "startedAt": _time(started), "lastHeartbeatTime": _time(now),
            "processes": [{"name": "FASTQC", "succeeded": 10, "running": 2},
                          {"name": "STAR_ALIGN", "submitted": 4, "pending": 8}],
        }),
        (run("variant-calling-007", "bob", "hpc-b", "wdl", "https://github.com/broadinstitute/warp"), {
            "phase": "Succeeded", "startedAt": _time(started), "completedAt": _time(now - timedelta(minutes=5)),
            "lastHeartbeatTime": _time(now - timedelta(minutes=5)), "peakConcurrency": 24, "cost": 18.42,
            "processes": [{"name": "HaplotypeCaller", "succeeded": 24, "cached": 3, "retried": 1}],
        }),
        (run("sad_einstein", "alice", "hpc-a", "nextflow", "https://github.com/nf-core/sarek"), {
            "phase": "Failed", "startedAt": _time(started), "completedAt": _time(now - timedelta(minutes=30)),
            "lastHeartbeatTime": _time(now - timedelta(minutes=30)),
            "errorMessage": "Process BWA_MEM terminated with exit status 137",
            "processes": [{"name": "BWA_MEM", "succeeded": 3, "failed": 1}],
        }),
    ]


def seed(plane: ControlPlane, s3: S3Server) -> list[str]:
    """Create the demo namespace, bucket, objects and runs; returns the run names."""
    plane.kubectl("create", "namespace", NAMESPACE, check=False)
    provide_s3_secret(plane, s3, NAMESPACE)
    client = s3.client()
    client.create_bucket(Bucket=BUCKET)
    names = []
    for manifest, status in demo_runs(datetime.now(UTC)):
        name = manifest["spec"]["runName"]
        put_objects(client, BUCKET, [(f"runs/{name}/results/sample{i}.bam", 4096 * (i + 1)) for i in range(5)])
        plane.kubectl("apply", "-f", "-", input=json.dumps(manifest))
        plane.kubectl("patch", "workflowrun", manifest["metadata"]["name"], "-n", NAMESPACE,
                      "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))
        names.append(name)
    return names
