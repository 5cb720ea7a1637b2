#!/usr/bin/env bash
# The README's first command: install Dossier and run the web app on the embedded archive
# (SQLite catalogue, local encrypted vault, FTS5 index, master key file) under
# $DOSSIER_DATA_DIR (default ./var/archive), at http://127.0.0.1:${PORT:-8000}/.
# On first run an `admin` user is created; its password is printed once (or set
# DOSSIER_ADMIN_PASSWORD beforehand).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-app-deps.sh
export DOSSIER_DATA_DIR=${DOSSIER_DATA_DIR:-$PWD/var/archive}
.venv/bin/dossier init
cat <<MSG

Dossier is starting at http://127.0.0.1:${PORT:-8000}/ (archive: $DOSSIER_DATA_DIR).
The command line works on the same archive:
  export DOSSIER_DATA_DIR=$DOSSIER_DATA_DIR
  .venv/bin/dossier user add 王五 --role handler --department 法援科 --password-stdin
  .venv/bin/dossier new --complainant 张三 --respondent 某律师事务所 --matter "拖延办理法律援助案件"
  .venv/bin/dossier ingest letter.pdf --dossier 2611-001
  .venv/bin/dossier --help
MSG
exec .venv/bin/dossier serve --host 127.0.0.1 --port "${PORT:-8000}"
