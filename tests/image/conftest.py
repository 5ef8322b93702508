"""The image tier: the image's entrypoints under runc against a control plane of their
own (the session's may have the host-run operator of the cluster tier watching it),
the session's S3 server and an SQLite index in a directory bind-mounted writable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.image import INDEX_MOUNT, INDEX_URL, KUBECONFIG_MOUNT, Container, Image, Mount, healthy, owned_by_pod_user

from localcluster.controlplane import ControlPlane
from localcluster.processes import free_port
from localcluster.s3server import S3Server
from localcluster.system import install_crds
from localcluster.tracker import Operator, install_rbac


@pytest.fixture(scope="package")
def image_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    plane = ControlPlane(state_dir=tmp_path_factory.mktemp("image-controlplane")).start()
    try:
        install_crds(plane)
        install_rbac(plane)
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="package")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return owned_by_pod_user(tmp_path_factory.mktemp("image-index"))


@pytest.fixture(scope="package")
def image_operator(
    tracker_image: Image,
    image_plane: ControlPlane,
    s3_server: S3Server,
    index_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Container]:
    """`tracker-operator` from the image, as the chart runs it, under its service account."""
    state = tmp_path_factory.mktemp("image-operator")
    credentials = state / "credentials"
    host_env = Operator(plane=image_plane, s3=s3_server, state_dir=credentials, database_url=INDEX_URL).env()
    owned_by_pod_user(credentials)
    env = {k: v for k, v in host_env.items() if k.startswith(("TRACKER_", "AWS_"))}
    env.update(KUBECONFIG=f"{KUBECONFIG_MOUNT}/operator.kubeconfig", TRACKER_ADMINS__USERS='["admin"]')
    image_plane.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering", "metadata": {"name": "tracker"}}),
    )
    port = free_port()
    container = Container(
        image=tracker_image,
        name="operator",
        state_dir=state,
        env=env,
        argv=["tracker-operator", "--peering=tracker", f"--liveness=http://127.0.0.1:{port}/healthz"],
        mounts=[Mount(credentials, KUBECONFIG_MOUNT), Mount(index_dir, INDEX_MOUNT, writable=True)],
    ).start_until(
        lambda: healthy(f"http://127.0.0.1:{port}/healthz"), timeout=90, what="the operator's liveness endpoint"
    )
    yield container
    container.stop()
