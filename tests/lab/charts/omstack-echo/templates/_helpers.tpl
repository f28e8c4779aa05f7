{{- define "omstack-echo.labels" -}}
app.kubernetes.io/name: omstack-echo
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "omstack-echo.selector" -}}
app.kubernetes.io/name: omstack-echo
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
