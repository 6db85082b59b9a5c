{{- define "backfilld.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "backfilld.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "backfilld.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "backfilld.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "backfilld.selectorLabels" -}}
app.kubernetes.io/name: {{ include "backfilld.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "backfilld.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "backfilld.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end }}

{{- define "backfilld.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "backfilld.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "backfilld.manifestsConfigMap" -}}
{{- default (printf "%s-manifests" (include "backfilld.fullname" .)) .Values.manifests.existingConfigMap }}
{{- end }}

{{- define "backfilld.hasManifests" -}}
{{- if or .Values.manifests.existingConfigMap .Values.manifests.files }}true{{ end }}
{{- end }}

{{/* Checks that hold in both modes; fails the render with a message naming the value. */}}
{{- define "backfilld.validate" -}}
{{- if not (has .Values.mode (list "deployment" "job")) }}
{{- fail (printf "mode must be deployment or job, not %q" .Values.mode) }}
{{- end }}
{{- $_ := required "cosmos.endpoint is required (https://ACCOUNT.documents.azure.com:443/)" .Values.cosmos.endpoint }}
{{- $_ := required "cosmos.database is required" .Values.cosmos.database }}
{{- $_ := required "cosmos.keySecret.name is required: an existing Secret holding the Cosmos key" .Values.cosmos.keySecret.name }}
{{- $minimum := add .Values.daemon.gracePeriodSeconds 2 }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $minimum) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed daemon.gracePeriodSeconds + 2 s of control-plane shutdown (%v)" .Values.terminationGracePeriodSeconds $minimum) }}
{{- end }}
{{- end }}

{{/* The pod spec both modes share: security, secrets as env and files, manifests, state dir. */}}
{{- define "backfilld.podSpec" -}}
serviceAccountName: {{ include "backfilld.serviceAccountName" . }}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: backfilld
    image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    args:
      {{- include "backfilld.args" . | nindent 6 }}
    env:
      - name: COSMOS_ENDPOINT
        value: {{ .Values.cosmos.endpoint | quote }}
      - name: COSMOS_DATABASE
        value: {{ .Values.cosmos.database | quote }}
      - name: COSMOS_KEY
        valueFrom:
          secretKeyRef:
            name: {{ .Values.cosmos.keySecret.name }}
            key: {{ .Values.cosmos.keySecret.key }}
      {{- if .Values.cosmos.caSecret.name }}
      - name: COSMOS_CA_FILE
        value: /etc/backfilld/cosmos-ca/{{ .Values.cosmos.caSecret.key }}
      {{- end }}
      - name: FIELD_ENCRYPT_ENABLED
        value: {{ .Values.encryption.enabled | quote }}
      {{- if .Values.encryption.keyringSecret.name }}
      - name: FIELD_ENCRYPT_KEY_PROVIDER
        value: file
      - name: FIELD_ENCRYPT_KEYRING_FILE
        value: /etc/backfilld/keyring/{{ .Values.encryption.keyringSecret.key }}
      {{- end }}
      {{- if eq .Values.mode "deployment" }}
      - name: BACKFILLD_STATE_DIR
        value: /var/lib/backfilld
      {{- if include "backfilld.hasManifests" . }}
      - name: BACKFILLD_MANIFEST_DIR
        value: /etc/backfilld/manifests
      {{- end }}
      {{- if .Values.apiToken.secretName }}
      - name: BACKFILLD_API_TOKEN_FILE
        value: /etc/backfilld/api-token/{{ .Values.apiToken.key }}
      {{- end }}
      {{- with .Values.daemon.environment }}
      - name: BACKFILLD_ENVIRONMENT
        value: {{ . | quote }}
      {{- end }}
      {{- end }}
    {{- if eq .Values.mode "deployment" }}
    ports:
      - name: http
        containerPort: {{ .Values.daemon.port }}
        protocol: TCP
    readinessProbe:
      httpGet:
        path: /readyz
        port: http
      periodSeconds: 5
      failureThreshold: 2
    livenessProbe:
      httpGet:
        path: /healthz
        port: http
      initialDelaySeconds: 5
      periodSeconds: 10
      timeoutSeconds: 5
      failureThreshold: 6
    {{- end }}
    resources:
      {{- toYaml .Values.resources | nindent 6 }}
    securityContext:
      {{- toYaml .Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: state
        mountPath: /var/lib/backfilld
      - name: tmp
        mountPath: /tmp
      {{- if include "backfilld.hasManifests" . }}
      - name: manifests
        mountPath: /etc/backfilld/manifests
        readOnly: true
      {{- end }}
      {{- if .Values.encryption.keyringSecret.name }}
      - name: keyring
        mountPath: /etc/backfilld/keyring
        readOnly: true
      {{- end }}
      {{- if and (eq .Values.mode "deployment") .Values.apiToken.secretName }}
      - name: api-token
        mountPath: /etc/backfilld/api-token
        readOnly: true
      {{- end }}
      {{- if .Values.cosmos.caSecret.name }}
      - name: cosmos-ca
        mountPath: /etc/backfilld/cosmos-ca
        readOnly: true
      {{- end }}
volumes:
  - name: state
    {{- if .Values.persistence.enabled }}
    persistentVolumeClaim:
      claimName: {{ default (printf "%s-state" (include "backfilld.fullname" .)) .Values.persistence.existingClaim }}
    {{- else }}
    emptyDir: {}
    {{- end }}
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  {{- if include "backfilld.hasManifests" . }}
  - name: manifests
    configMap:
      name: {{ include "backfilld.manifestsConfigMap" . }}
  {{- end }}
  {{- if .Values.encryption.keyringSecret.name }}
  - name: keyring
    secret:
      secretName: {{ .Values.encryption.keyringSecret.name }}
      defaultMode: 0400
  {{- end }}
  {{- if and (eq .Values.mode "deployment") .Values.apiToken.secretName }}
  - name: api-token
    secret:
      secretName: {{ .Values.apiToken.secretName }}
      defaultMode: 0400
  {{- end }}
  {{- if .Values.cosmos.caSecret.name }}
  - name: cosmos-ca
    secret:
      secretName: {{ .Values.cosmos.caSecret.name }}
      defaultMode: 0444
  {{- end }}
{{- end }}

{{- define "backfilld.args" -}}
{{- if eq .Values.mode "deployment" }}
- serve
- --listen=0.0.0.0:{{ .Values.daemon.port }}
- --grace-period={{ .Values.daemon.gracePeriodSeconds }}
- --max-running-jobs={{ .Values.daemon.maxRunningJobs }}
- --max-jobs-per-container={{ .Values.daemon.maxJobsPerContainer }}
- --write-concurrency={{ .Values.daemon.writeConcurrency }}
- --range-concurrency={{ .Values.daemon.rangeConcurrency }}
{{- else }}
- run
- --manifest=/etc/backfilld/manifests/{{ required "job.manifest is required in job mode" .Values.job.manifest }}
{{- with .Values.job.container }}
- --container={{ . }}
{{- end }}
{{- if .Values.job.dryRun }}
- --dry-run
{{- end }}
{{- if .Values.job.batchSize }}
- --batch-size={{ .Values.job.batchSize }}
{{- end }}
- --write-concurrency={{ .Values.daemon.writeConcurrency }}
- --range-concurrency={{ .Values.daemon.rangeConcurrency }}
{{- /* Checkpoints on the state volume: a retried pod resumes each unfinished container. */}}
- --state-dir=/var/lib/backfilld/run
{{- with .Values.job.backupConfirmed }}
- --backup-confirmed={{ . }}
{{- end }}
{{- if .Values.job.allowLiveWithoutDryRun }}
- --allow-live-without-dry-run
{{- end }}
{{- with .Values.daemon.environment }}
- --environment={{ . }}
{{- end }}
{{- end }}
- --log-format={{ .Values.daemon.logFormat }}
{{- range .Values.daemon.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}
