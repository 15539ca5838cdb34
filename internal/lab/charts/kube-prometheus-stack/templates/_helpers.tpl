{{/* Names as kube-prometheus-stack computes them (fullname truncated to 26). */}}
{{- define "kps.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 26 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- define "kps.prometheus.fullname" -}}{{ include "kps.fullname" . }}-prometheus{{- end -}}
{{- define "kps.labels" -}}
release: {{ .Release.Name | quote }}
heritage: {{ .Release.Service | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.Version | quote }}
app.kubernetes.io/part-of: kube-prometheus-stack
chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "kps.operator.fullname" -}}{{ include "kps.fullname" . }}-operator{{- end -}}
{{- define "kps.admission.fullname" -}}{{ include "kps.fullname" . }}-admission{{- end -}}
{{- define "kps.operator.labels" -}}
{{ include "kps.labels" . }}
app: kube-prometheus-stack-operator
app.kubernetes.io/name: kube-prometheus-stack-prometheus-operator
app.kubernetes.io/component: prometheus-operator
{{- end -}}
{{- define "kps.operator.selector" -}}
app: kube-prometheus-stack-operator
release: {{ .Release.Name | quote }}
{{- end -}}
{{- define "kps.operator.image" -}}
{{- $i := .Values.prometheusOperator.image -}}
{{ $i.registry }}/{{ $i.repository }}:{{ $i.tag | default .Chart.AppVersion }}
{{- end -}}
{{- define "kps.reloader.image" -}}
{{- $i := .Values.prometheusOperator.prometheusConfigReloader.image -}}
{{ $i.registry }}/{{ $i.repository }}:{{ $i.tag | default .Chart.AppVersion }}
{{- end -}}
