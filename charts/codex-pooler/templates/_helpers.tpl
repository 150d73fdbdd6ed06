{{/*
Names and labels.
*/}}
{{- define "codex-pooler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "codex-pooler.fullname" -}}
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

{{- define "codex-pooler.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "codex-pooler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "codex-pooler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "codex-pooler.labels" -}}
helm.sh/chart: {{ include "codex-pooler.chart" . }}
{{ include "codex-pooler.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: codex-pooler
{{- end -}}

{{/*
Selector labels of one role. Call with (dict "root" $ "role" "web").
*/}}
{{- define "codex-pooler.roleSelectorLabels" -}}
{{ include "codex-pooler.selectorLabels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "codex-pooler.roleLabels" -}}
{{ include "codex-pooler.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{/*
The image: an explicit tag is required (no default to the chart's appVersion, no moving tag), so
an upgrade never runs an image nobody chose; an optional digest pins it further.
*/}}
{{- define "codex-pooler.image" -}}
{{- $tag := required "image.tag is required: set an explicit, immutable image tag (e.g. --set image.tag=0.1.0)" .Values.image.tag -}}
{{- if has $tag (list "latest" "main" "master" "edge" "stable" "nightly") -}}
{{- fail (printf "image.tag %q is a moving tag; set an immutable one (a version)" $tag) -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* "true" in the single topology (one pod of role all). */}}
{{- define "codex-pooler.single" -}}
{{- if eq .Values.topology "single" -}}true{{- end -}}
{{- end -}}

{{/* The role whose pods the client Service and the Ingress route to. */}}
{{- define "codex-pooler.servingRole" -}}
{{- if include "codex-pooler.single" . -}}all{{- else -}}web{{- end -}}
{{- end -}}

{{- define "codex-pooler.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "codex-pooler.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "codex-pooler.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "codex-pooler.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The chart creates the Secret only when asked to and no existing one is named. */}}
{{- define "codex-pooler.createSecret" -}}
{{- if and .Values.secrets.create (not .Values.secrets.existingSecret) -}}true{{- end -}}
{{- end -}}

{{- define "codex-pooler.headlessServiceName" -}}
{{- printf "%s-cluster" (include "codex-pooler.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "true" when pods of the role join the CAF cluster. Call with (dict "root" $ "role" "web"). */}}
{{/* The single topology's one `all` pod has no peer, so it opens no cluster port. */}}
{{- define "codex-pooler.clusterMember" -}}
{{- if and .root.Values.clustering.enabled (ne .role "all") (ne .role "migrate") (eq .root.Values.topology "scaled") (index .root.Values.clustering.participants .role) -}}true{{- end -}}
{{- end -}}

{{/*
Render-time checks that the schema cannot express.
*/}}
{{- define "codex-pooler.validate" -}}
{{- $_ := include "codex-pooler.image" . -}}
{{- $graceMs := int .Values.config.shutdownGraceMs -}}
{{- $single := .Values.single -}}
{{- if and (include "codex-pooler.single" .) (le (mul (int $single.terminationGracePeriodSeconds) 1000) (add $graceMs (mul (int $single.preStopSleepSeconds) 1000))) -}}
{{- fail (printf "single.terminationGracePeriodSeconds (%d s) must exceed single.preStopSleepSeconds (%d s) + config.shutdownGraceMs (%d ms)" (int $single.terminationGracePeriodSeconds) (int $single.preStopSleepSeconds) $graceMs) -}}
{{- end -}}
{{- $hpa := .Values.web.autoscaling -}}
{{- if and $hpa.enabled (lt (int $hpa.maxReplicas) (int $hpa.minReplicas)) -}}
{{- fail "web.autoscaling.maxReplicas must be at least web.autoscaling.minReplicas" -}}
{{- end -}}
{{- if and (not (include "codex-pooler.single" .)) $hpa.enabled (gt (int $hpa.maxReplicas) 1) (not (include "codex-pooler.clusterMember" (dict "root" . "role" "web"))) -}}
{{- fail "web.autoscaling with maxReplicas > 1 needs clustering.enabled=true and clustering.participants.web=true (websocket owner forwarding between web pods)" -}}
{{- end -}}
{{- $webStopMs := mul (int .Values.web.terminationGracePeriodSeconds) 1000 -}}
{{- $webPreStopMs := mul (int .Values.web.preStopSleepSeconds) 1000 -}}
{{- if le $webStopMs (add $graceMs $webPreStopMs) -}}
{{- fail (printf "web.terminationGracePeriodSeconds (%d s) must exceed web.preStopSleepSeconds (%d s) + config.shutdownGraceMs (%d ms)" (int .Values.web.terminationGracePeriodSeconds) (int .Values.web.preStopSleepSeconds) $graceMs) -}}
{{- end -}}
{{- range $role := list "worker" "scheduler" -}}
{{- $v := index $.Values $role -}}
{{- if and $v.enabled (le (mul (int $v.terminationGracePeriodSeconds) 1000) $graceMs) -}}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d s) must exceed config.shutdownGraceMs (%d ms)" $role (int $v.terminationGracePeriodSeconds) $graceMs) -}}
{{- end -}}
{{- end -}}
{{- if and (not (include "codex-pooler.single" .)) (gt (int .Values.web.replicaCount) 1) (not (include "codex-pooler.clusterMember" (dict "root" . "role" "web"))) -}}
{{- fail "web.replicaCount > 1 needs clustering.enabled=true and clustering.participants.web=true (websocket owner forwarding between web pods)" -}}
{{- end -}}
{{- if and (not .Values.secrets.create) (not .Values.secrets.existingSecret) -}}
{{- fail "secrets.create=false needs secrets.existingSecret" -}}
{{- end -}}
{{- end -}}

{{/*
Environment shared by every role and the migrate job. Call with (dict "root" $ "role" "web");
role "migrate" sets no CODEX_POOLER_ROLE (the migrate command takes none).
*/}}
{{- define "codex-pooler.env" -}}
{{- $root := .root -}}
{{- $secret := include "codex-pooler.secretName" $root -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: database-url
- name: SECRET_KEY_BASE
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: secret-key-base
- name: CODEX_POOLER_UPSTREAM_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: upstream-secret-key
- name: CODEX_POOLER_UPSTREAM_SECRET_KEY_VERSION
  value: {{ $root.Values.secrets.upstreamSecretKeyVersion | default "v1" | quote }}
- name: CODEX_POOLER_TOTP_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: totp-encryption-key
- name: CODEX_POOLER_TOTP_ENCRYPTION_KEY_VERSION
  value: {{ $root.Values.secrets.totpEncryptionKeyVersion | default "v1" | quote }}
{{- if has .role (list "all" "web" "worker" "scheduler") }}
- name: CODEX_POOLER_ROLE
  value: {{ .role | quote }}
{{- end }}
- name: PORT
  value: {{ $root.Values.config.port | quote }}
- name: POOL_SIZE
  value: {{ $root.Values.config.poolSize | quote }}
- name: CODEX_POOLER_LOG_LEVEL
  value: {{ $root.Values.config.logLevel | quote }}
- name: CODEX_POOLER_SHUTDOWN_GRACE_MS
  value: {{ $root.Values.config.shutdownGraceMs | quote }}
- name: CODEX_POOLER_DATA_DIR
  value: {{ $root.Values.config.dataDir | quote }}
{{- with $root.Values.config.upstreamBaseUrl }}
- name: CODEX_POOLER_UPSTREAM_BASE_URL
  value: {{ . | quote }}
{{- end }}
{{- with $root.Values.config.oauthTokenUrl }}
- name: CODEX_POOLER_OAUTH_TOKEN_URL
  value: {{ . | quote }}
{{- end }}
- name: CODEX_POOLER_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- if include "codex-pooler.clusterMember" . }}
- name: CODEX_POOLER_CLUSTER_PORT
  value: {{ $root.Values.clustering.port | quote }}
- name: DNS_CLUSTER_QUERY
  value: {{ printf "%s.%s.svc.%s" (include "codex-pooler.headlessServiceName" $root) $root.Release.Namespace ($root.Values.clustering.clusterDomain | default "cluster.local") | quote }}
{{- end }}
{{- with $root.Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Container probes on the HTTP port: liveness and startup on /healthz, readiness on /readyz.
*/}}
{{- define "codex-pooler.probes" -}}
{{- $p := .Values.probes -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  {{- toYaml $p.startup | nindent 2 }}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  {{- toYaml $p.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  {{- toYaml $p.readiness | nindent 2 }}
{{- end -}}

{{/*
Writable scratch space under a read-only root filesystem.
*/}}
{{- define "codex-pooler.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: {{ .Values.config.dataDir }}
{{- end -}}

{{- define "codex-pooler.volumes" -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 64Mi
- name: data
  emptyDir:
    sizeLimit: 256Mi
{{- end -}}

{{/*
Pod placement and security shared by the role templates. Call with (dict "root" $ "values" .Values.web).
*/}}
{{- define "codex-pooler.podCommon" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "codex-pooler.serviceAccountName" $root }}
automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
