#!/usr/bin/env bash
# Back up the platform: a pg_dump in custom format (-Fc) of $DATABASE_URL into a timestamped file, and, when
# $STORAGE_DIR is set, a tarball of the uploads beside it. Prints the path of the dump.
#
#   DATABASE_URL=postgresql://user@host/db [STORAGE_DIR=/srv/crowdfund/storage] bin/backup.sh [TARGET_DIR]
#
# TARGET_DIR defaults to $BACKUP_DIR, else ./backups. Files are written under a temporary name and renamed
# when complete, so a half-written backup never looks like a good one. Restore with bin/restore.sh.
set -euo pipefail

url=${DATABASE_URL:?"set DATABASE_URL (postgresql://...) to the database to back up"}
url=${url/#postgresql+psycopg:\/\//postgresql://}
url=${url/#postgres:\/\//postgresql://}
case "$url" in
  postgresql://*) ;;
  *) echo "backup.sh: DATABASE_URL must be a PostgreSQL URL (SQLite: copy the file)" >&2; exit 2 ;;
esac
PG_DUMP=${PG_DUMP:-pg_dump}

target=${1:-${BACKUP_DIR:-backups}}
mkdir -p "$target"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dump="$target/crowdfund-$stamp.dump"

"$PG_DUMP" --format=custom --no-owner --no-privileges --file="$dump.partial" "$url"
mv "$dump.partial" "$dump"

if [ -n "${STORAGE_DIR:-}" ] && [ -d "$STORAGE_DIR" ]; then
  tar -czf "$dump.storage.tar.gz.partial" -C "$STORAGE_DIR" .
  mv "$dump.storage.tar.gz.partial" "$dump.storage.tar.gz"
fi
echo "$dump"
