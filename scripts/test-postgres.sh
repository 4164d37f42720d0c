#!/usr/bin/env bash
# A throwaway PostgreSQL server for tt's tests and benchmarks, from the machine's own packages.
#
#   scripts/test-postgres.sh start [WATCH_PID]   start one; print its directory on stdout
#   scripts/test-postgres.sh stop DIR            stop it and remove DIR
#
# The server lives in a fresh directory under /tmp: its data (initdb, no fsync: it holds test data only), its
# Unix socket and its log. It listens on that socket (trust) and on 127.0.0.1 at a free port, where the role
# `tt` needs its password `tt-test` (scram-sha-256), so the tests can check logins both ways. When openssl is
# there, the server also speaks TLS with a certificate for localhost and 127.0.0.1 from a CA made for it
# (DIR/tls/ca.pem), and a role `tt_tls` (password `tt-test`) may only log in over TLS. DIR/env holds PGHOST (the
# socket directory), PGPORT, PGUSER and TLSCA (empty without TLS) for clients. Run as root, the server runs as the `postgres`
# user (PostgreSQL refuses to run as root). With WATCH_PID, a watcher stops the server and removes DIR once that
# process has exited: a test binary that starts its own server cannot leave it running.
set -euo pipefail

find_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  echo "test-postgres: no PostgreSQL server found (Debian: apt-get install postgresql)" >&2
  exit 3
}

as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
start)
  bin=$(find_bindir)
  dir=$(mktemp -d /tmp/tt-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  as_server "$bin/initdb" -D "$dir/data" -U tt -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 3; }
  tls_opts=""
  tlsca=""
  if command -v openssl >/dev/null 2>&1; then
    t="$dir/tls"
    mkdir -p "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tt test CA" \
      -keyout "$t/ca.key" -out "$t/ca.pem" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$t/server.key" -out "$t/server.csr" \
      >/dev/null 2>&1
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$t/ext"
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
      -extfile "$t/ext" -out "$t/server.pem" >/dev/null 2>&1
    chmod 600 "$t/server.key"
    chmod 644 "$t/ca.pem"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$t"
    tls_opts="-c ssl=on -c ssl_cert_file=$t/server.pem -c ssl_key_file=$t/server.key"
    tlsca="$t/ca.pem"
  fi
  {
    echo "local all all trust"
    if [ -n "$tlsca" ]; then
      echo "hostssl all tt_tls 127.0.0.1/32 scram-sha-256"
      echo "hostnossl all tt_tls 127.0.0.1/32 reject"
    fi
    echo "host all all 127.0.0.1/32 scram-sha-256"
  } >"$dir/data/pg_hba.conf"
  # A free port: asked of the kernel, then given to the server (a race with another process is retried).
  for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o \
      "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off \
       -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 $tls_opts" start >/dev/null 2>&1; then
      started=1; break
    fi
  done
  if [ -z "${started:-}" ]; then
    cat "$dir/server.log" >&2 2>/dev/null || true
    exit 3
  fi
  "$bin/psql" -h "$dir" -p "$port" -U tt -d postgres -qAt -c "ALTER ROLE tt PASSWORD 'tt-test'" >/dev/null
  "$bin/psql" -h "$dir" -p "$port" -U tt -d postgres -qAt \
    -c "CREATE ROLE tt_tls LOGIN SUPERUSER PASSWORD 'tt-test'" >/dev/null
  printf 'PGHOST=%s\nPGPORT=%s\nPGUSER=tt\nPGBIN=%s\nTLSCA=%s\n' "$dir" "$port" "$bin" "$tlsca" >"$dir/env"
  chmod 644 "$dir/env"
  if [ -n "${2:-}" ]; then
    watch=$2
    nohup bash -c "while kill -0 $watch 2>/dev/null; do sleep 1; done; \"$0\" stop \"$dir\"" \
      </dev/null >/dev/null 2>&1 &
  fi
  echo "$dir"
  ;;
stop)
  dir=${2:?usage: test-postgres.sh stop DIR}
  [ -f "$dir/env" ] || exit 0
  bin=$(sed -n 's/^PGBIN=//p' "$dir/env")
  as_server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start [WATCH_PID] | stop DIR" >&2
  exit 2
  ;;
esac
