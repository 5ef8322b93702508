"""The e2e suite's people: ServiceAccounts with kubeconfigs of their own, since every
cluster can mint those (client certificates are a local-control-plane luxury)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from e2e.system import username


@dataclass
class Person:
    """Someone with a kubeconfig of their own (a ServiceAccount) in the runs namespace."""

    home: str  # the ServiceAccount's namespace
    name: str
    kubeconfig: Path

    @property
    def username(self) -> str:
        return username(self.home, self.name)


@dataclass
class RunsNamespace:
    name: str
    alice: Person  # runs workflows and owns them
    bob: Person  # a colleague in the same namespace
    admin: Person  # in the chart's admins.users
