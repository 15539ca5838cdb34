{{/* Names and labels as the prometheus-node-exporter chart computes them. */}}
{{- define "pne.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- define "pne.selectorLabels" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "pne.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: metrics
app.kubernetes.io/part-of: {{ .Chart.Name }}
{{ include "pne.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- if .Values.releaseLabel }}
release: {{ .Release.Name }}
{{- end }}
{{- end -}}
{{- define "pne.image" -}}
{{- $i := .Values.image -}}
{{- $tag := $i.tag | default (printf "v%s" .Chart.AppVersion) -}}
{{ $i.registry }}/{{ $i.repository }}:{{ $tag }}{{ if $i.distroless }}-distroless{{ end }}
{{- end -}}
{{- define "pne.podLabels" -}}
{{ include "pne.labels" . }}
{{- with .Values.jobLabel }}
jobLabel: {{ . }}
{{- end }}
{{- end -}}
