"""Names of the project's Kubernetes API resources and the labels it sets."""

from __future__ import annotations

GROUP = "tracker.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
RUNS = "workflowruns"
RUN_KIND = "WorkflowRun"
JOBS = "outputlifecyclejobs"
JOB_KIND = "OutputLifecycleJob"

LABEL_RUN_ID = f"{GROUP}/run-id"
# On a run body rebuilt from the index for an archived run (its resource is gone).
ANNOTATION_ARCHIVED_AT = f"{GROUP}/archived-at"
LABEL_LIFECYCLE_JOB = f"{GROUP}/lifecycle-job"
# A worker Job runs in the tracker's namespace, not its lifecycle job's (ownerReferences
# cannot cross namespaces): these labels name the lifecycle job it works for.
LABEL_LIFECYCLE_JOB_NAMESPACE = f"{GROUP}/lifecycle-job-namespace"
LABEL_LIFECYCLE_JOB_UID = f"{GROUP}/lifecycle-job-uid"
LABEL_OPERATION = f"{GROUP}/operation"
LABEL_DUPLICATE_OF = f"{GROUP}/duplicate-of"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_PART_OF = "app.kubernetes.io/part-of"
PART_OF = "workflow-tracker"
