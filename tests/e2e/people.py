"""The e2e suite's people: ServiceAccounts with kubeconfigs of their own, since every
cluster can mint those (client certificates are a local-control-plane luxury)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Person:
    """Someone with a kubeconfig of their own (a ServiceAccount) in the runs namespace."""

    name: str
    username: str
    kubeconfig: Path


@dataclass
class RunsNamespace:
    name: str
    alice: Person  # runs workflows and owns them
    bob: Person  # a colleague in the same namespace
    admin: Person  # in the chart's admins.users
