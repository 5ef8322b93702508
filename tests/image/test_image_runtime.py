"""The image's own promises under runc with the chart's security context: the
commands the chart and the worker Jobs run are there (localcluster is not), it runs as
the chart's user with no capabilities and no new privileges, its root file system is
read-only and /tmp writable; and `tracker-api` answers /readyz on an SQLite index in a
bind-mounted directory."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fixtures.image import (
    INDEX_MOUNT,
    INDEX_URL,
    Container,
    Image,
    Mount,
    chart_security_context,
    healthy,
    owned_by_pod_user,
    process_status,
    run_to_completion,
)

from localcluster.processes import free_port

# The first test of a session may build the image (scripts/test builds it beforehand).
pytestmark = [pytest.mark.image, pytest.mark.timeout(1800)]

PROBE = """
import errno, importlib.util, json, shutil
def write(path):
    try:
        open(path, "w").close()
        return "written"
    except OSError as error:
        return errno.errorcode[error.errno]
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
print(json.dumps({
    "ids": status["Uid"].split() + status["Gid"].split(),
    "CapEff": status["CapEff"].strip(), "CapBnd": status["CapBnd"].strip(),
    "NoNewPrivs": status["NoNewPrivs"].strip(),
    "root": write("/opt/tracker/probe"), "etc": write("/etc/probe"), "tmp": write("/tmp/probe"),
    "commands": {c: bool(shutil.which(c)) for c in ("tracker-operator", "tracker-api", "tracker-worker",
                                                    "tracker", "localcluster")},
    "localcluster": importlib.util.find_spec("localcluster") is not None,
}))
"""


def test_runs_as_the_charts_user_read_only_without_capabilities(tracker_image: Image, tmp_path: Path) -> None:
    code, log = run_to_completion(
        Container(image=tracker_image, name="probe", state_dir=tmp_path, argv=["python3", "-c", PROBE]), timeout=120
    )
    assert code == 0, log
    probe = json.loads(log.splitlines()[-1])
    uid, gid = chart_security_context()
    assert tracker_image.config["User"] == f"{uid}:{gid}"  # the image's USER is the chart's
    assert probe["ids"] == [str(uid)] * 4 + [str(gid)] * 4
    assert (probe["CapEff"], probe["CapBnd"], probe["NoNewPrivs"]) == ("0" * 16, "0" * 16, "1")
    assert (probe["root"], probe["etc"], probe["tmp"]) == ("EROFS", "EROFS", "written")
    assert probe["commands"] == {
        "tracker-operator": True,
        "tracker-api": True,
        "tracker-worker": True,
        "tracker": True,
        "localcluster": False,
    }
    assert probe["localcluster"] is False


def test_the_api_answers_readyz_on_an_sqlite_index(
    tracker_image: Image, tmp_path: Path, containers: list[Container]
) -> None:
    index = owned_by_pod_user(tmp_path / "index")
    port = free_port()
    api = Container(
        image=tracker_image,
        name="api",
        state_dir=tmp_path,
        argv=["tracker-api", "--host", "127.0.0.1", "--port", str(port)],
        env={"TRACKER_DATABASE_URL": INDEX_URL, "TRACKER_API__AUTH_MODE": "none"},
        mounts=[Mount(index, INDEX_MOUNT, writable=True)],
    )
    containers.append(api)
    api.start_until(lambda: healthy(f"http://127.0.0.1:{port}/readyz"), timeout=90, what="the API's /readyz")

    runs = httpx.get(f"http://127.0.0.1:{port}/api/v1/runs", timeout=10)
    assert runs.status_code == 200, runs.text
    assert (index / "tracker.db").is_file()
    status = process_status(api.pid())
    uid, _ = chart_security_context()
    assert status["Uid"].split() == [str(uid)] * 4
    assert (status["CapEff"], status["NoNewPrivs"]) == ("0" * 16, "1")
