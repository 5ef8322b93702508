"""The harness is told where the checkout is: no guess from where it is installed, and
a clear one-line error when nobody said."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcluster import __main__ as cli
from localcluster.repo import ENV, RepoNotGiven, repo_root, use_repo


def test_the_checkout_is_the_one_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("crds", "rbac", "admission", "scripts"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv(ENV, str(tmp_path))
    assert repo_root() == tmp_path.resolve()


def test_unset_or_wrong_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(
        RepoNotGiven,
        match=rf"^{ENV} is not set: set it \(or pass --repo DIR\) to the Workflow "
        "Tracker checkout",
    ):
        repo_root()
    (tmp_path / "crds").mkdir()
    with pytest.raises(
        RepoNotGiven,
        match=rf"^{ENV}={tmp_path} is not a Workflow Tracker checkout: it has no "
        r"rbac/, admission/, scripts/$",
    ):
        use_repo(tmp_path)


@pytest.mark.parametrize("command", ["run", "up"])
def test_localcluster_without_a_checkout_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert cli.main([command]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"localcluster: {ENV} is not set")


def test_localcluster_repo_option_names_the_checkout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert cli.main(["up", "--repo", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"localcluster: {ENV}={tmp_path.resolve()} is not a Workflow Tracker")
