"""What the browser tests share: the Chromium they drive, the API process they
start (`serve`), viewport sizes, and screenshots saved as test artifacts under
`test-artifacts/browser/` (gitignored)."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Page

from localcluster.processes import ManagedProcess, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LAPTOP = {"width": 1280, "height": 800}
HD_LAPTOP = {"width": 1366, "height": 768}  # the most common laptop screen
PHONE = {"width": 390, "height": 844}
BROWSER_TOKEN, BROWSER_USER = "browser-test-token", "erin"


@dataclass(frozen=True)
class Api:
    url: str
    process: ManagedProcess


def _ready(url: str) -> bool:
    return httpx.get(url + "/readyz", timeout=2).status_code == 200


def serve(database_url: str, state_dir: Path, **settings: str) -> Api:
    """`tracker-api` (the installed console script) on a free port, ready (`/readyz`)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DATABASE_URL=database_url, PYTHONUNBUFFERED="1", **settings)
    url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        name="tracker-api",
        argv=[str(Path(sys.executable).parent / "tracker-api"), "--port", str(port)],
        log_path=state_dir / f"api-{port}.log",
        env=env,
    )
    try:
        process.start_until(lambda: _ready(url), timeout=60, what="the read API's /readyz")
    except Exception:
        process.stop()
        raise
    return Api(url, process)


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
