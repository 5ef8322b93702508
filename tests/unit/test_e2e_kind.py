"""The kind e2e path cannot run without Docker; what can be checked here is that its
pieces agree: the services manifest and the fixture's endpoints and credentials, and
the image name the script loads and the chart values use."""

from __future__ import annotations

from pathlib import Path

import yaml
from e2e.system import KIND_DATABASE_URL, KIND_DEPS, KIND_S3, chart_values
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]


def _containers() -> dict[str, dict]:
    documents = list(yaml.safe_load_all((REPO_ROOT / "tests/e2e/kind/services.yaml").read_text()))
    assert {d["metadata"].get("namespace", d["metadata"]["name"]) for d in documents} == {KIND_DEPS}
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]
        for d in documents
        if d["kind"] == "Deployment"
    }


def test_the_fixture_reaches_the_services_with_their_credentials() -> None:
    containers = _containers()
    postgres = {e["name"]: e["value"] for e in containers["postgres"]["env"]}
    url = make_url(KIND_DATABASE_URL)
    assert (url.username, url.password, url.database) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    assert url.host == f"postgres.{KIND_DEPS}"
    minio = {e["name"]: e["value"] for e in containers["minio"]["env"]}
    assert (f"http://minio.{KIND_DEPS}:9000", minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]) == KIND_S3


def test_the_script_loads_the_image_the_values_name() -> None:
    script = (REPO_ROOT / "scripts/e2e-kind").read_text()
    image = chart_values(s3_endpoint="", s3_region="", api_port=1, health_port=2)["image"]
    reference = f"{image['repository']}:{image['tag']}"
    assert f"docker build --tag {reference}" in script
    assert f"load docker-image {reference}" in script
    assert image["pullPolicy"] == "Never"
