#!/bin/sh
# Starts Prometheus with compose/monitoring/prometheus.yml, adding the metrics bearer token to the
# codex-pooler scrape job when METRICS_BEARER_TOKEN is set (the token is written to a file that
# only this container reads; it never appears in the configuration or the logs).
set -eu
config=/prometheus/codex-pooler-prometheus.yml
cp /etc/codex-pooler/prometheus.yml "$config"
if [ -n "${METRICS_BEARER_TOKEN:-}" ]; then
  umask 077
  printf '%s' "$METRICS_BEARER_TOKEN" > /prometheus/metrics-token
  printf '    authorization:\n      type: Bearer\n      credentials_file: /prometheus/metrics-token\n' >> "$config"
fi
exec /bin/prometheus --config.file="$config" --storage.tsdb.path=/prometheus \
  --web.listen-address=0.0.0.0:9090
