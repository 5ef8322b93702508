"""kopf's last-handled-configuration storage, left out for WorkflowRuns.

kopf builds an object's essence (a deep copy of its body, less status and noise) on
every watch event, to detect changes for create/update handlers. WorkflowRuns have
none (they are watched, `run_changed`), so for them that copy would be work on every
heartbeat for nothing; lifecycle jobs keep the annotations storage as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import kopf

from tracker.kube.resources import RUN_KIND


class DiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    def build(self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None) -> kopf.BodyEssence:
        if body.get("kind") == RUN_KIND:
            return kopf.BodyEssence()
        return super().build(body=body, extra_fields=extra_fields)

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        if body.get("kind") == RUN_KIND:
            return None
        return super().fetch(body=body)
