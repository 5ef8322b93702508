{{/* Names, labels and the shared pieces of the pod specs. */}}

{{- define "tracker.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's name for namespaced objects: the release name, plus the chart name unless it already has it. */}}
{{- define "tracker.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tracker.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "tracker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: workflow-tracker
{{- end -}}

{{/* Labels of one component; call with (dict "root" $ "component" "operator"). */}}
{{- define "tracker.componentLabels" -}}
{{ include "tracker.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tracker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tracker.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tracker.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "tracker.serviceAccountName" -}}
{{- printf "%s-%s" (include "tracker.fullname" .root) .component -}}
{{- end -}}

{{/* "true" when the API writes the trace receiver's runs as WorkflowRuns (and so needs tracker-api-runs and its token). */}}
{{- define "tracker.apiWritesRuns" -}}
{{- if and .Values.api.enabled .Values.tower.enabled (eq .Values.tower.runs "kubernetes") -}}true{{- end -}}
{{- end -}}

{{- define "tracker.configName" -}}
{{- printf "%s-config" (include "tracker.fullname" .) -}}
{{- end -}}

{{/* The Secret holding the database URL: the one this chart makes from database.url, or database.existingSecret. */}}
{{- define "tracker.databaseSecret" -}}
{{- if .Values.database.url -}}
{{- printf "%s-database" (include "tracker.fullname" .) -}}
{{- else -}}
{{- required "set database.existingSecret (a Secret with the index's database URL) or database.url" .Values.database.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* A ClusterRole from rbac/ (the one source of the rules), with this release's labels; call with (dict "root" $ "file" "operator.yaml"). */}}
{{- define "tracker.clusterRoleFromFile" -}}
{{- $role := .root.Files.Get (printf "files/rbac/%s" .file) | fromYaml -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ $role.metadata.name }}
  labels:
    {{- include "tracker.componentLabels" (dict "root" .root "component" (index $role.metadata.labels "app.kubernetes.io/component")) | nindent 4 }}
rules:
  {{- toYaml $role.rules | nindent 2 }}
{{- end -}}

{{/* Environment shared by the operator and the API: settings from the ConfigMap, the database URL by reference. */}}
{{- define "tracker.commonEnv" -}}
- name: TRACKER_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tracker.databaseSecret" . }}
      key: {{ .Values.database.secretKey }}
{{- end -}}

{{- define "tracker.s3EnvFrom" -}}
{{- if .Values.s3.existingSecret }}
- secretRef:
    name: {{ .Values.s3.existingSecret }}
{{- end }}
{{- end -}}

{{/* The restricted Pod Security Standard, for every pod of the chart. */}}
{{- define "tracker.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "tracker.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}
