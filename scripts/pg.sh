#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, sourced by test.sh: installs Debian's
# PostgreSQL 15 (and its server headers) when missing, builds pgvector from the
# vendored source (../shared/vendor, or $FANLINE_VENDOR_DIR) when it is not installed,
# starts a cluster in a temporary folder listening on a Unix socket only (no port is
# shared with anything), and exports FANLINE_TEST_PG (a libpq connection string) and
# FANLINE_REQUIRE_PG=1 so the PostgreSQL tests run rather than skip. `pg_stop` stops it.
#
# initdb refuses to run as root: as root the cluster belongs to the postgres user.

PG_BIN=/usr/lib/postgresql/15/bin
pg_setup() {
  local SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  local need=()
  [ -x "$PG_BIN/initdb" ] || need+=(postgresql-15)
  if [ ! -f /usr/share/postgresql/15/extension/vector.control ] && [ ! -f /usr/include/postgresql/15/server/postgres.h ]; then
    need+=(postgresql-server-dev-15 build-essential)
  fi
  if [ ${#need[@]} -gt 0 ]; then
    # Debian starts a cluster of its own on port 5432; the tests do not use it.
    echo "installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [ ! -f /usr/share/postgresql/15/extension/vector.control ]; then
    local vendor=""
    for d in "${FANLINE_VENDOR_DIR:-}" "$ROOT/../shared/vendor" /work/shared/vendor; do
      [ -n "$d" ] && [ -f "$d/pgvector-0.8.6.tar.gz" ] && { vendor="$d"; break; }
    done
    if [ -n "$vendor" ]; then
      echo "building pgvector 0.8.6 from $vendor"
      local b; b="$(mktemp -d)"
      echo "5743dac39fdfa740533cf95e71b033bd5513b71dda194b3cf19464ccbf76f3fb  $vendor/pgvector-0.8.6.tar.gz" | sha256sum -c --quiet
      tar xzf "$vendor/pgvector-0.8.6.tar.gz" -C "$b"
      # OPTFLAGS="": no -march=native, so the library runs on any x86-64 machine.
      (cd "$b/pgvector-0.8.6" && make -s OPTFLAGS="" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null \
        && $SUDO make -s install PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null) \
        || echo "pgvector did not build: vector tests will say so" >&2
      rm -rf "$b"
    else
      echo "pgvector's source is not here (../shared/vendor): vector tests will say so" >&2
    fi
  fi
}

pg_start() {
  PG_DIR="$(mktemp -d /tmp/fanline-pg.XXXXXX)"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U fanline --auth=trust --no-sync -E UTF8 >/dev/null
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-k $PG_DIR -c listen_addresses='' -c fsync=off -c max_connections=200" start >/dev/null
  export FANLINE_TEST_PG="host=$PG_DIR user=fanline dbname=postgres"
  export FANLINE_REQUIRE_PG=1
  echo "PostgreSQL 15 on $PG_DIR (FANLINE_TEST_PG)"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
