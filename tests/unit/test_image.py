"""The image and the scripts, without a Docker engine: hadolint and shellcheck clean, and
the wheel the Dockerfile builds (from the same build context) provides exactly the
commands the chart's pods and the worker Jobs run, which are the console scripts the
tests run too."""

from __future__ import annotations

import configparser
import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

from localcluster.binaries import control_plane_binaries
from tracker.kube.manifests import worker_job
from tracker.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
SCRIPTS = sorted(p for p in (REPO_ROOT / "scripts").rglob("*") if p.is_file())


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run([str(BIN_DIR / "hadolint"), str(REPO_ROOT / "Dockerfile")], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "")


def test_shellcheck_finds_nothing() -> None:
    assert SCRIPTS, "no scripts found"
    result = subprocess.run(
        ["shellcheck", "--external-sources", *map(str, SCRIPTS)], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_the_image_runs_non_root_from_a_pinned_base() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert base
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base[1])
    stages = re.findall(r"^FROM ", dockerfile, re.M)
    assert len(stages) == 2
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    # The dependency layer is built from pyproject.toml alone, before the sources arrive.
    assert (
        dockerfile.index("COPY pyproject.toml")
        < dockerfile.index("pip install --requirement")
        < dockerfile.index("COPY src")
    )


def build_context(destination: Path) -> Path:
    """The files `docker build .` would send, by .dockerignore's rules (as used here)."""
    rules = [
        line for line in (REPO_ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")
    ]
    for path in REPO_ROOT.rglob("*"):
        relative = path.relative_to(REPO_ROOT).as_posix()
        if not path.is_file() or relative.startswith((".git/", ".venv/")):
            continue
        included = False
        for rule in rules:
            negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, pattern + "/*"):
                included = negate
        if included:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return destination


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower()


def test_the_wheel_provides_the_commands_the_chart_and_the_worker_jobs_run(tmp_path: Path) -> None:
    context = build_context(tmp_path / "context")
    assert not (context / "localcluster").exists()  # the harness is not in the build context
    assert [p.name for p in (context / "src").iterdir()] == ["tracker"]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(tmp_path / "wheels"),
            str(context),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        entry_points_file = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(entry_points_file).decode())
        assert {n.split("/")[0] for n in archive.namelist() if not n.startswith("workflow_tracker-")} == {"tracker"}
        assert [n for n in archive.namelist() if n.startswith("tracker/") and n.endswith(".html")]  # page templates
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    in_wheel = dict(entry_points["console_scripts"])
    product = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert in_wheel == product["scripts"]  # the very scripts the tests run from .venv/bin
    assert all(name.startswith(("tracker", "kubectl-tracker")) for name in in_wheel)

    # It requires what the product needs; what only the harness needs stays with the harness.
    harness = tomllib.loads((REPO_ROOT / "localcluster" / "pyproject.toml").read_text())["project"]
    required = {
        requirement_name(line.removeprefix("Requires-Dist:"))
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    assert required == {requirement_name(d) for d in product["dependencies"]}
    harness_only = {requirement_name(d) for d in harness["dependencies"]} - required
    assert {"moto", "cryptography"} <= harness_only
    assert not harness_only & {requirement_name(d) for d in product["optional-dependencies"]["dev"]}
    assert harness["scripts"] == {"localcluster": "localcluster.__main__:main"}

    rendered = subprocess.run(
        [
            str(control_plane_binaries() / "helm"),
            "template",
            "tracker",
            str(REPO_ROOT / "charts" / "tracker"),
            "--kube-version",
            "1.35.4",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    commands = {
        c["command"][0]
        for doc in yaml.safe_load_all(rendered)
        if doc and doc["kind"] == "Deployment"
        for c in doc["spec"]["template"]["spec"]["containers"]
    }
    job = worker_job(
        lifecycle_job={
            "metadata": {"name": "d", "namespace": "n", "uid": "u"},
            "spec": {"operation": "delete_outputs"},
        },
        namespace="tracker-system",
        run_id="r",
        settings=Settings(),
    )
    commands |= {c["command"][0] for c in job["spec"]["template"]["spec"]["containers"]}
    assert commands == {"tracker-operator", "tracker-api", "tracker-worker"}
    assert commands <= set(in_wheel)
