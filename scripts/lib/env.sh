# Shared helpers for scripts/test-all: install or start what the suites need.
# shellcheck shell=bash

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  # Keep apt from starting system services (we start what we need ourselves).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
  fi
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "$@"
}

ensure_packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  [ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
  [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
  command -v node >/dev/null || missing+=(nodejs npm)
  command -v psql >/dev/null || missing+=(postgresql postgresql-contrib)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v nats-server >/dev/null || missing+=(nats-server)
  # The malware-scanner tests start their own clamd (signatures written by the test).
  [ -x /usr/sbin/clamd ] || missing+=(clamav-daemon)
  # The directory sign-in tests start their own slapd with a test tree and certificates.
  [ -x /usr/sbin/slapd ] || missing+=(slapd)
  command -v openssl >/dev/null || missing+=(openssl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    # slapd's package would otherwise ask for a domain and set up a system directory.
    echo "slapd slapd/no_configuration boolean true" | as_root debconf-set-selections
    apt_install "${missing[@]}"
  fi
}

# PostgreSQL: use KAIRAN_TEST_POSTGRES_URL when given, else the local server (started if it
# is not running). Test databases are created and dropped by the suite itself.
ensure_postgres() {
  PG_URL="${KAIRAN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  if [ -z "${KAIRAN_TEST_POSTGRES_URL:-}" ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    local ver
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
    if [ -n "$ver" ]; then
      as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    fi
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  if ! psql "$PG_URL" -qAtc 'select 1' >/dev/null 2>&1; then
    # A fresh Debian cluster asks for a password on 127.0.0.1: give the postgres role one.
    as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'kairan-test'\"" >/dev/null
    PG_URL="postgres://postgres:kairan-test@127.0.0.1:5432/postgres"
  fi
  psql "$PG_URL" -qAtc 'select 1' >/dev/null
  # Databases left by an interrupted run.
  psql "$PG_URL" -qAtc "select datname from pg_database where datname like 'kairan_test_%'" |
    while read -r db; do psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; done
  export PG_URL
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Redis and NATS join several server nodes in the cluster tests; start our own when none runs.
ensure_brokers() {
  if ! port_open 6379; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/kairan-test-redis.log
  fi
  if ! port_open 4222; then
    nohup nats-server -a 127.0.0.1 -p 4222 >/tmp/kairan-test-nats.log 2>&1 &
  fi
  for _ in $(seq 1 50); do port_open 6379 && port_open 4222 && return 0; sleep 0.2; done
  echo "Redis or NATS did not start" >&2
  return 1
}

run_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
  else
    # Without nextest the filter expression cannot be used; run the whole workspace.
    cargo test --workspace
  fi
}

ensure_node_modules() {
  if [ ! -d e2e/node_modules/playwright-core ]; then
    (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
