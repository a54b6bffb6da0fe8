#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, CI and experiments: the shell twin of startThrowawayPostgres() in
# @alirefund/store/testing.
#
#   scripts/pg-throwaway.sh start    initdb into a fresh temp dir, start on a free port of 127.0.0.1, create the
#                                    database alirefund_test, print its URL (postgres://postgres@127.0.0.1:PORT/
#                                    alirefund_test, trust auth). If one is already running, print its URL.
#   scripts/pg-throwaway.sh stop     stop it and remove its directory.
#   scripts/pg-throwaway.sh url      print the URL of the running one.
#   scripts/pg-throwaway.sh status   exit 0 if it is running.
#
# State (temp dir, data dir, port, URL) lives in $ALIREFUND_PG_STATE, default ${TMPDIR:-/tmp}/alirefund-pg-throwaway.state.
# Binaries: initdb on PATH (symlinks resolved), else the newest /usr/lib/postgresql/*/bin. As root, the server
# runs as OS user postgres (initdb refuses root); otherwise as you.
#
# CI: export ALIREFUND_TEST_PG_URL="$(scripts/pg-throwaway.sh start)"; npm test; scripts/pg-throwaway.sh stop
# (the vitest globalSetup then uses that cluster instead of starting its own).
set -euo pipefail

STATE="${ALIREFUND_PG_STATE:-${TMPDIR:-/tmp}/alirefund-pg-throwaway.state}"

die() {
  echo "pg-throwaway: $*" >&2
  exit 1
}

find_bin_dir() {
  local initdb dir
  if initdb="$(command -v initdb 2>/dev/null)"; then
    dir="$(dirname "$(readlink -f "$initdb")")"
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# Runs a command as the server's OS user.
as_server() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  fi
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

load_state() {
  [ -f "$STATE" ] || return 1
  # shellcheck disable=SC1090
  . "$STATE"
}

running() {
  load_state && [ -n "${DATA:-}" ] && [ -d "$DATA" ] && as_server "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

start() {
  if running; then
    echo "$URL"
    return 0
  fi
  rm -f "$STATE"
  BIN="$(find_bin_dir)" || die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib/postgresql/*/bin"
  DIR="$(mktemp -d "${TMPDIR:-/tmp}/alirefund-pg-XXXXXX")"
  DATA="$DIR/data"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root, but there is no 'postgres' OS user to run the server as"
    chown postgres: "$DIR"
  fi
  cd "$DIR" # the server user must be able to enter the working directory
  if ! as_server env LC_ALL=C "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    --no-instructions >"$DIR/initdb.log" 2>&1; then
    cat "$DIR/initdb.log" >&2
    rm -rf "$DIR"
    die "initdb failed"
  fi
  local attempt
  for attempt in 1 2 3; do
    PORT="$(free_port)"
    if as_server "$BIN/pg_ctl" start -D "$DATA" -l "$DIR/postgres.log" -w -t 30 -s -o \
      "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"; then
      break
    fi
    if [ "$attempt" -eq 3 ]; then
      tail -n 20 "$DIR/postgres.log" >&2 || true
      rm -rf "$DIR"
      die "pg_ctl start failed"
    fi
  done
  "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'create database alirefund_test' >/dev/null
  URL="postgres://postgres@127.0.0.1:$PORT/alirefund_test"
  umask 077
  printf "BIN='%s'\nDIR='%s'\nDATA='%s'\nPORT='%s'\nURL='%s'\n" "$BIN" "$DIR" "$DATA" "$PORT" "$URL" >"$STATE"
  echo "$URL"
}

stop() {
  if ! load_state; then
    echo "pg-throwaway: not running (no state file $STATE)" >&2
    return 0
  fi
  if [ -d "$DATA" ]; then
    (cd "$DIR" && as_server "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -s) || true
  fi
  rm -rf "$DIR"
  rm -f "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running || die "not running"; echo "$URL" ;;
  status) running ;;
  *)
    echo "usage: $0 start|stop|url|status" >&2
    exit 2
    ;;
esac
