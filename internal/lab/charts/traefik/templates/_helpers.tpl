{{- define "traefik.name" -}}{{ .Chart.Name }}{{- end }}
{{- define "traefik.fullname" -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "traefik.instance" -}}{{ printf "%s-%s" .Release.Name .Release.Namespace | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "traefik.selectorLabels" -}}
app.kubernetes.io/name: {{ include "traefik.name" . }}
app.kubernetes.io/instance: {{ include "traefik.instance" . }}
{{- end }}
{{- define "traefik.labels" -}}
{{ include "traefik.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "traefik.image-name" -}}
{{ printf "%s/%s:%s" .Values.image.registry .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- define "traefik.ingressClassName" -}}{{ .Values.ingressClass.name | default (include "traefik.fullname" .) }}{{- end }}
