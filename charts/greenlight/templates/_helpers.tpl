{{/* The chart name, or nameOverride. */}}
{{- define "greenlight.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, else the release name when it contains
the chart name, else "<release>-<chart>". Kept short enough for suffixes such as "-access-reviews".
*/}}
{{- define "greenlight.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := include "greenlight.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The labels that select the controller pods; never change them on upgrade. */}}
{{- define "greenlight.selectorLabels" -}}
app.kubernetes.io/name: {{ include "greenlight.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{/* Labels on every resource: commonLabels, and the chart's own (which the schema keeps from being overridden). */}}
{{- define "greenlight.labels" -}}
{{- $own := dict
  "helm.sh/chart" (printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-")
  "app.kubernetes.io/name" (include "greenlight.name" .)
  "app.kubernetes.io/instance" .Release.Name
  "app.kubernetes.io/version" .Chart.AppVersion
  "app.kubernetes.io/managed-by" .Release.Service
  "app.kubernetes.io/part-of" "greenlight" }}
{{- toYaml (merge $own (deepCopy (default (dict) .Values.commonLabels))) }}
{{- end }}

{{/*
The labels of every resource plus `extra` (which wins over commonLabels):
include "greenlight.labelsWith" (dict "context" $ "extra" (dict ...)).
*/}}
{{- define "greenlight.labelsWith" -}}
{{- toYaml (merge (deepCopy (default (dict) .extra)) (fromYaml (include "greenlight.labels" .context))) }}
{{- end }}

{{/* The controller's ServiceAccount. */}}
{{- define "greenlight.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "greenlight.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest, else repository:tag (default: appVersion). */}}
{{- define "greenlight.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret with Slack's credentials: existingSecret, or the one the chart creates. */}}
{{- define "greenlight.slackSecretName" -}}
{{- default (printf "%s-slack" (include "greenlight.fullname" .)) .Values.slack.existingSecret }}
{{- end }}

{{/* Whether the controller serves Slack's HTTP interactivity (Slack on, and not Socket Mode only). */}}
{{- define "greenlight.slackHttp" -}}
{{- if and .Values.slack.enabled (or .Values.slack.existingSecret (not .Values.slack.appToken)) }}true{{- end }}
{{- end }}

{{/*
Fails the render with a clear message on combinations the schema cannot express.
*/}}
{{- define "greenlight.validate" -}}
{{- if and .Values.slack.enabled (not .Values.slack.existingSecret) (not .Values.slack.botToken) }}
{{- fail "slack.enabled is true but there is no bot token: set slack.existingSecret to a Secret with SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN), or set slack.botToken" }}
{{- end }}
{{- if and .Values.slack.enabled (not .Values.slack.existingSecret) (not .Values.slack.signingSecret) (not .Values.slack.appToken) }}
{{- fail "slack.enabled is true but clicks cannot reach Greenlight: set slack.signingSecret (HTTP interactivity) or slack.appToken (Socket Mode)" }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.controller.leaderElection.enabled) }}
{{- fail "replicaCount is more than 1 but controller.leaderElection.enabled is false: replicas would decide the same requests at once; enable leader election or run one replica" }}
{{- end }}
{{- end }}
