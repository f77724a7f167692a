#!/usr/bin/env bash
# Restore a backup made by bin/backup.sh into an EMPTY database (create it first: createdb crowdfund_restored).
#
#   bin/restore.sh BACKUP.dump postgresql://user@host/empty_db [STORAGE_DIR]
#
# The restore runs in one transaction and stops at the first error, so it either completes or leaves the target
# empty. A database that already has tables is refused. With STORAGE_DIR, the uploads tarball written beside the
# dump (BACKUP.dump.storage.tar.gz) is unpacked there. Then point DATABASE_URL at the restored database and run
# `flask --app wsgi init-db` if the code is newer than the backup.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
dump=$1
url=${2/#postgresql+psycopg:\/\//postgresql://}
url=${url/#postgres:\/\//postgresql://}
storage=${3:-}
PSQL=${PSQL:-psql}
PG_RESTORE=${PG_RESTORE:-pg_restore}

[ -f "$dump" ] || { echo "restore.sh: no such backup: $dump" >&2; exit 2; }
tables=$("$PSQL" "$url" -XAtq -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
if [ "$tables" != 0 ]; then
  echo "restore.sh: the target database already has $tables table(s); restore only into an empty database" >&2
  exit 3
fi

"$PG_RESTORE" --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" "$dump"

if [ -n "$storage" ]; then
  if [ -f "$dump.storage.tar.gz" ]; then
    mkdir -p "$storage"
    tar -xzf "$dump.storage.tar.gz" -C "$storage"
  else
    echo "restore.sh: no uploads tarball $dump.storage.tar.gz; storage left as it is" >&2
  fi
fi
echo "restored $dump into $url"
