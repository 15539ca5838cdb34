{{/*
Names and labels shared by every template of the consumer chart.
The objects keep fixed names (the workshop refers to them by name), so the
release name only shows up in the app.kubernetes.io/instance label.
*/}}

{{/* The name of the component, used for object names and selectors. */}}
{{- define "consumer.name" -}}
{{- .Chart.Name }}
{{- end }}

{{/* The chart label: name and version. */}}
{{- define "consumer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the pods: never change them on a running release. */}}
{{- define "consumer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "consumer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Every label an object of this chart carries. */}}
{{- define "consumer.labels" -}}
helm.sh/chart: {{ include "consumer.chart" . }}
{{ include "consumer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dojo
{{- end }}
