{{/*
Names and labels shared by every template of the producer chart.
The objects keep fixed names (the workshop refers to them by name), so the
release name only shows up in the app.kubernetes.io/instance label.
*/}}

{{/* The name of the component, used for object names and selectors. */}}
{{- define "producer.name" -}}
{{- .Chart.Name }}
{{- end }}

{{/* The chart label: name and version. */}}
{{- define "producer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the pods: never change them on a running release. */}}
{{- define "producer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "producer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Every label an object of this chart carries. */}}
{{- define "producer.labels" -}}
helm.sh/chart: {{ include "producer.chart" . }}
{{ include "producer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dojo
{{- end }}
