#!/usr/bin/env bash
# Starts private remote-cache / remote-execution servers on loopback, on free
# ports, for e2e/remote (never the system services):
#
#   tools/remote/start.sh STATE_DIR [nginx] [buildgrid] [worker]   (default: all three)
#   tools/remote/stop.sh STATE_DIR
#
# nginx       WebDAV HTTP cache (--remote_cache=http://...)
# buildgrid   BuildGrid: CAS, ByteStream, ActionCache, Execution and Bots on one
#             gRPC port, with its scheduler in a private PostgreSQL 15 cluster
# worker      buildbox-worker inside the harness root (needs buildgrid), running
#             actions with buildbox-run-hosttools (chroot), or with
#             buildbox-run-bubblewrap when PYIMAGE_REMOTE_RUNNER=bubblewrap (the
#             root entered with pivot_root in a private mount namespace; each action
#             sees only its inputs, so its tools must be statically linked: e2e/remote
#             uses this runner with a static pyimage)
#
# Writes STATE_DIR/env (sourceable: REMOTE_HTTP, REMOTE_GRPC, REMOTE_WORKER_PLATFORM,
# REMOTE_EXEC_PLATFORM, REMOTE_WORKER_RUNNER) and STATE_DIR/pids (what stop.sh stops). Logs stay in
# STATE_DIR. The servers are installed by tools/setup.sh (tools/remote/install.sh).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=tools/lib/common.sh
. "$HERE/../lib/common.sh"
# shellcheck source=tools/remote/lib.sh
. "$HERE/lib.sh"

[ $# -ge 1 ] || pyimage_die "usage: tools/remote/start.sh STATE_DIR [nginx] [buildgrid] [worker]"
STATE="$(mkdir -p "$1" && cd "$1" && pwd -P)"
# PostgreSQL runs as the postgres user: it must reach its data folder.
chmod 755 "$STATE"
shift
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(nginx buildgrid worker)
want() { printf '%s\n' "${PARTS[@]}" | grep -qx "$1"; }
# The worker's runner: hosttools (no sandbox) or bubblewrap (each action in its own
# namespaces, only its inputs visible).
RUNNER="${PYIMAGE_REMOTE_RUNNER:-hosttools}"
case "$RUNNER" in
  hosttools | bubblewrap) ;;
  *) pyimage_die "PYIMAGE_REMOTE_RUNNER=$RUNNER: use hosttools or bubblewrap" ;;
esac
pyimage_require_root_user

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  local port="$1" what="$2" secs="$3" i
  for ((i = 0; i < secs * 5; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  pyimage_die "$what did not listen on 127.0.0.1:$port within $secs s (logs in $STATE)"
}
record() { printf '%s %s\n' "$1" "$2" >>"$STATE/pids"; }
setenv() { printf '%s=%q\n' "$1" "$2" >>"$STATE/env"; }
: >"$STATE/env"
: >>"$STATE/pids"

start_nginx() {
  [ -x "$NGINX_BIN" ] || pyimage_die "nginx is not installed: run tools/setup.sh (tools/remote/install.sh)"
  local port d="$STATE/nginx"
  port="$(free_port)"
  mkdir -p "$d/data" "$d/tmp"
  cat >"$d/nginx.conf" <<CONF
worker_processes 2;
daemon off;
user root root;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $d/data;
    client_max_body_size 0;
    location / {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
CONF
  "$NGINX_BIN" -p "$d" -e "$d/error.log" -c "$d/nginx.conf" >"$d/stdout.log" 2>&1 &
  record nginx $!
  wait_port "$port" nginx 10
  setenv REMOTE_HTTP "http://127.0.0.1:$port"
}

start_postgres() {
  [ -x "$PG_BIN/initdb" ] || pyimage_die "PostgreSQL 15 is not installed: run tools/setup.sh (tools/remote/install.sh)"
  local port d="$STATE/pg"
  port="$(free_port)"
  mkdir -p "$d"
  chown postgres: "$d"
  chmod 700 "$d"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$d/data" -A trust -U bgd --no-sync >"$STATE/pg-initdb.log" 2>&1 ||
    pyimage_die "initdb failed; see $STATE/pg-initdb.log"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$d/data" -w -l "$d/server.log" \
    -o "-p $port -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >"$STATE/pg-start.log" 2>&1 ||
    pyimage_die "PostgreSQL did not start; see $d/server.log"
  record postgres "$(head -n1 "$d/data/postmaster.pid")"
  PG_DSN="postgresql://bgd@127.0.0.1:$port/postgres"
}

start_buildgrid() {
  [ -x "$BGD_BIN" ] || pyimage_die "BuildGrid is not installed: run tools/setup.sh (tools/remote/install.sh)"
  start_postgres
  local port d="$STATE/buildgrid"
  port="$(free_port)"
  mkdir -p "$d/cas"
  "$BGD_BIN" migrate apply "$PG_DSN" >"$d/migrate.log" 2>&1 ||
    pyimage_die "bgd migrate apply failed; see $d/migrate.log"
  cat >"$d/config.yml" <<CONF
server:
  - !channel { address: "127.0.0.1:$port", insecure-mode: true }
# Without this a stale server on the same port would silently share it.
grpc-server-options: { grpc.so_reuseport: 0 }
authorization: { method: none }
# Bazel uploads and executes with many concurrent RPCs; BuildGrid's default (5
# threads per CPU) refuses the excess with "Concurrent RPC limit exceeded".
thread-pool-size: 128
connections:
  - !sql-connection &sql { connection-string: "$PG_DSN", pool-size: 5, max-overflow: 5 }
storages:
  - !disk-storage &cas { path: $d/cas }
caches:
  - !lru-action-cache &ac { storage: *cas, max-cached-refs: 100000, allow-updates: true, cache-failed-actions: false }
schedulers:
  - !sql-scheduler &sched
    sql: *sql
    action-cache: *ac
    storage: *cas
    property-set: !dynamic-property-set { match-property-keys: [OSFamily, ISA] }
    assigners: [!priority-age-assigner { count: 1, interval: 0.1 }]
instances:
  - name: ""
    services:
      - !cas { storage: *cas }
      - !bytestream { storage: *cas }
      - !action-cache { cache: *ac }
      - !execution { scheduler: *sched }
CONF
  "$BGD_BIN" server start "$d/config.yml" >"$d/server.log" 2>&1 &
  record buildgrid $!
  # Under load BuildGrid needs 7-16 s before it listens.
  wait_port "$port" BuildGrid 90
  setenv REMOTE_GRPC "grpc://127.0.0.1:$port"
  BGD_PORT="$port"
}

start_worker() {
  [ -x "$PYIMAGE_ROOTFS/usr/bin/buildbox-worker" ] || pyimage_die "buildbox is not installed in the harness root: run tools/setup.sh (tools/remote/install.sh)"
  [ -n "${BGD_PORT:-}" ] || pyimage_die "the worker needs the buildgrid part"
  pyimage_with_lock pyimage_mount_system
  local arch isa ws
  arch="$(uname -m)"
  case "$arch" in x86_64) isa=x86-64 ;; aarch64) isa=aarch64 ;; *) pyimage_die "no worker platform for $arch" ;; esac
  # The worker runs inside the root: its workspace is a path inside it.
  ws="/tmp/pyimage-remote-worker.$$"
  mkdir -p "$PYIMAGE_ROOTFS$ws"
  printf '%s\n' "$PYIMAGE_ROOTFS$ws" >"$STATE/worker-workspace"
  local worker=(/usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin
    /usr/bin/buildbox-worker
    --buildbox-run="/usr/bin/buildbox-run-$RUNNER"
    --bots-remote="http://127.0.0.1:$BGD_PORT" --cas-remote="http://127.0.0.1:$BGD_PORT"
    --request-timeout=30 --max-wait-time=5
    --runner-arg=--disable-localcas --runner-arg=--workspace-path="$ws"
    --platform OSFamily=linux --platform ISA="$isa"
    "pyimage-e2e-$$")
  # Under load BuildGrid can refuse the worker's UpdateBotSession RPC ("Concurrent RPC limit
  # exceeded"), and the worker then exits: this loop restarts it, or Bazel waits for a
  # worker forever. SIGTERM (stop.sh) stops the worker and the loop.
  # shellcheck disable=SC2016
  local loop='
    trap "kill \$child 2>/dev/null; wait \$child; exit 0" TERM INT
    while :; do
      "$@" & child=$!
      wait $child
      echo "[start.sh] buildbox-worker exited ($?): restarting it" >&2
      sleep 1
    done'
  if [ "$RUNNER" = hosttools ]; then
    chroot "$PYIMAGE_ROOTFS" /bin/sh -c "$loop" sh "${worker[@]}" >"$STATE/worker.log" 2>&1 &
    record worker $!
  else
    # bubblewrap cannot create its namespaces under chroot ("No permissions to create
    # a new namespace"): enter the root with pivot_root in a private mount namespace.
    # The shell records its own pid (exec keeps it) for stop.sh's SIGTERM.
    unshare --mount --fork /bin/sh -c '
      set -e
      root="$1" pidfile="$2" loop="$3"
      shift 3
      echo $$ >"$pidfile"
      mount --make-rprivate /
      mount --rbind "$root" "$root"
      cd "$root"
      old=".pyimage-oldroot.$$"
      mkdir -p "$old"
      pivot_root . "$old"
      cd /
      umount -l "/$old"
      rmdir "/$old"
      exec /bin/sh -c "$loop" sh "$@"' sh "$PYIMAGE_ROOTFS" "$STATE/worker.pid" "$loop" "${worker[@]}" >"$STATE/worker.log" 2>&1 &
    local i
    for ((i = 0; i < 50; i++)); do
      [ -s "$STATE/worker.pid" ] && break
      sleep 0.2
    done
    [ -s "$STATE/worker.pid" ] || pyimage_die "the bubblewrap worker did not start: $(tail -n 5 "$STATE/worker.log")"
    record worker "$(cat "$STATE/worker.pid")"
  fi
  setenv REMOTE_WORKER_RUNNER "$RUNNER"
  setenv REMOTE_WORKER_PLATFORM "OSFamily=linux ISA=$isa"
  setenv REMOTE_EXEC_PLATFORM "@rules_pyimage//tools/remote:worker_linux_${arch}"
}

# Anything that fails stops what was already started.
on_exit() {
  local rc=$?
  if [ "$rc" != 0 ]; then bash "$HERE/stop.sh" "$STATE" >&2 || true; fi
}
trap on_exit EXIT
t0=$SECONDS
if want nginx; then start_nginx; fi
if want buildgrid; then start_buildgrid; fi
if want worker; then start_worker; fi
pyimage_log "remote servers up in $((SECONDS - t0)) s: ${PARTS[*]} (state: $STATE)"
