"""The Run Detail page's Actions menu: whether the signed-in user is offered "Delete
output dir" (the run's owner, a cluster admin of its cluster or a global admin, and
only where the page can act as that user: `kubernetes` authentication), and the typed
confirmation it asks for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracker.domain.authz import Admins, authorize

CONFIRMATION = "delete"  # what the user types to confirm a deletion, exactly
DELETE_ACTION = "delete the outputs"


@dataclass(frozen=True)
class Offer:
    """How the menu shows an action: absent, present but unavailable (and why), or usable."""

    shown: bool
    enabled: bool = False
    reason: str = ""


HIDDEN = Offer(shown=False)


def delete_offer(
    *,
    auth_mode: str,
    user: str,
    groups: Iterable[str],
    owner: str,
    cluster: str | None,
    admins: Admins,
    run_name: str,
    output_dir: str | None,
    outputs_deleted: bool,
) -> Offer:
    """ "Delete output dir" for this user on this run. Nobody is signed in with
    authentication off, so nobody is offered it; with static tokens the page has no
    Kubernetes identity to create the job with, so it says to use the CLI."""
    if auth_mode not in ("token", "kubernetes"):
        return HIDDEN
    decision = authorize(
        user=user,
        groups=groups,
        action=DELETE_ACTION,
        run_name=run_name,
        owner=owner,
        cluster=cluster,
        admins=admins,
    )
    if not decision.allowed:
        return HIDDEN
    if auth_mode != "kubernetes":
        return Offer(
            shown=True,
            reason="This server signs you in with a static API token, not as a Kubernetes user, so it cannot "
            f"create the deletion job as you: run `tracker outputs delete {run_name}` instead.",
        )
    if outputs_deleted:
        return Offer(shown=True, reason="The outputs are already deleted.")
    if not output_dir:
        return Offer(shown=True, reason="This run has no output directory.")
    return Offer(shown=True, enabled=True)


def confirmation_problem(typed: str) -> str | None:
    """None when `typed` is the confirmation word exactly; otherwise what to tell the user."""
    if typed == CONFIRMATION:
        return None
    shown = repr(typed if len(typed) <= 40 else typed[:40] + "…") if typed else "nothing"
    return f"You typed {shown}: type {CONFIRMATION} (exactly, in lower case) to confirm. Nothing was deleted."
