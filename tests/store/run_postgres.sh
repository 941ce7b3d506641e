#!/usr/bin/env bash
# run_postgres.sh COMMAND [ARGS...] — runs COMMAND ARGS... URL against a throw-away
# PostgreSQL server: initdb in a temporary directory, a server listening only
# on a Unix socket there, the tests, then stop and delete. Exits 77 (skipped)
# when the PostgreSQL server programs are not installed (Debian: postgresql).
set -euo pipefail

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then bindir=$(pg_config --bindir); fi
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir=$d; done
fi
if [ -z "$bindir" ]; then echo "SKIP: no PostgreSQL server programs (install postgresql)"; exit 77; fi

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then echo "SKIP: running as root and no postgres user"; exit 77; fi
  as_server=(runuser -u postgres --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/trident-pg-XXXXXX")
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
cleanup() {
  "${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_server[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U trident -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log"; exit 1; }
"${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-c listen_addresses='' -k $dir -c fsync=off" start >/dev/null ||
  { cat "$dir/server.log"; exit 1; }

"$@" "postgresql:///postgres?host=$dir&user=trident"
