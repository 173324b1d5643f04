#!/usr/bin/env bash
# What the test suite needs from the machine beyond Python packages, installed only when missing:
# Debian's Chromium and CJK fonts (browser tests), redis-server >= 7 (the private servers and the
# 3+3 Cluster the tests start), ffmpeg (WeChat voice notes are converted from AMR for browsers), and a PostgreSQL on 127.0.0.1:5432 with trust auth for user
# postgres (the archive tests make and drop their own database). Needs root where one is missing.
set -euo pipefail

updated=0
apt_install() {
    if [ "$updated" = 0 ]; then apt-get update -q; updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

command -v chromium >/dev/null || apt_install chromium fonts-noto-cjk
command -v ffmpeg >/dev/null || apt_install ffmpeg

redis_major() { redis-server --version 2>/dev/null | sed -n 's/.* v=\([0-9]*\)\..*/\1/p'; }
if [ "$(redis_major || true)" = "" ] || [ "$(redis_major)" -lt 7 ]; then
    apt_install redis-server
fi

pg_ready() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
if ! pg_ready; then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_lsclusters -h | grep -q "^$ver main" || pg_createcluster "$ver" main
    conf=/etc/postgresql/$ver/main
    # Loopback only, and trust for the tests' throwaway databases: this is a test machine's server.
    grep -q "kefu-tests" "$conf/pg_hba.conf" || sed -i "1i host all postgres 127.0.0.1/32 trust # kefu-tests" "$conf/pg_hba.conf"
    pg_ctlcluster "$ver" main start || pg_ctlcluster "$ver" main reload
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
    pg_ready || { echo "tests/machine.sh: PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
fi
