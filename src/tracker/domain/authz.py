"""Who may change a run's outputs: its owner, a cluster admin of the run's cluster, or
a global admin. Admins are listed as users or groups in configuration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principals:
    """A set of users and groups."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def include(self, user: str, groups: Iterable[str]) -> bool:
        return user in self.users or not set(groups).isdisjoint(self.groups)

    def describe(self) -> str:
        parts = []
        if self.users:
            parts.append("users " + ", ".join(self.users))
        if self.groups:
            parts.append("groups " + ", ".join(self.groups))
        return "; ".join(parts) or "nobody configured"


@dataclass(frozen=True)
class Admins:
    """Global admins, and admins per compute cluster."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    clusters: Mapping[str, Principals] = field(default_factory=dict)

    @property
    def global_admins(self) -> Principals:
        return Principals(self.users, self.groups)

    def of_cluster(self, cluster: str | None) -> Principals:
        return self.clusters.get(cluster, Principals()) if cluster else Principals()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    role: str  # "owner", "cluster-admin", "global-admin" or "" when refused
    message: str = ""


def authorize(
    *,
    user: str,
    groups: Iterable[str],
    action: str,
    run_name: str,
    owner: str,
    cluster: str | None,
    admins: Admins,
) -> Decision:
    """Decide whether `user` (in `groups`) may perform `action` on a run's outputs."""
    groups = tuple(groups)
    if user == owner:
        return Decision(True, "owner")
    if admins.of_cluster(cluster).include(user, groups):
        return Decision(True, "cluster-admin")
    if admins.global_admins.include(user, groups):
        return Decision(True, "global-admin")
    cluster_part = f"a cluster admin of {cluster!r} ({admins.of_cluster(cluster).describe()}), " if cluster else ""
    return Decision(
        False,
        "",
        f"{user!r} may not {action} for run {run_name!r}: only its owner {owner!r}, "
        f"{cluster_part}or a global admin ({admins.global_admins.describe()}) may",
    )
