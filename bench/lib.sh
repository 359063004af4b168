# shellcheck shell=bash disable=SC2034 # variables here are used by the scripts that source it
# Shared by the bench/ scenario scripts (sourced, not run): a throwaway Postgres, a
# throwaway diffplane on ports the kernel picks, /proc figures, and cleanup of
# everything on exit.
# The caller sets bench_name and calls bench_init first; binaries come from $BUILD_DIR
# (default build/), DIFFPLANE_SERVER and DIFFPLANE_BENCHTOOL override each. They are
# copied into the work dir, so a rebuild during a long run does not swap them.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_build_dir=${BUILD_DIR:-$bench_root/build}
bench_management_secret=sk_management_benchbenchbenchbench
server_pid=
server_port=
metrics_port=
bench_cleanup_hook=: # a scenario's own cleanup (child processes), run first

bench_cleanup() {
  local code=$?
  $bench_cleanup_hook || true
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  # BENCH_KEEP_LOG=FILE keeps the server's log past the run (the work dir goes).
  if [ -n "${BENCH_KEEP_LOG:-}" ] && [ -f "$work/server.log" ]; then
    cp "$work/server.log" "$BENCH_KEEP_LOG" || true
  fi
  if [ "$code" != 0 ] && [ -f "$work/server.log" ]; then
    echo "$bench_name: exit $code; last server log lines:" >&2
    tail -n 15 "$work/server.log" >&2
  fi
  "$bench_root/scripts/pg" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}

# Makes the work dir, copies the binaries, starts Postgres ($database_url).
bench_init() {
  work=$(mktemp -d "/tmp/diffplane-$bench_name.XXXXXX")
  # Postgres runs as the postgres user when we are root: it must be able to enter the dir.
  chmod 755 "$work"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir "$work/bin"
  local server=${DIFFPLANE_SERVER:-$bench_build_dir/cli/diffplane}
  local tool=${DIFFPLANE_BENCHTOOL:-$bench_build_dir/bench/benchtool}
  # A scenario that runs no server (bench_without_server=1) needs only the benchtool.
  local bins=("$tool")
  [ "${bench_without_server:-0}" = 1 ] || bins+=("$server")
  for bin in "${bins[@]}"; do
    [ -x "$bin" ] || { echo "$bench_name: $bin is missing; build it first" >&2; exit 2; }
  done
  cp "$tool" "$work/bin/benchtool"
  benchtool=$work/bin/benchtool
  server_bin=
  if [ "${bench_without_server:-0}" != 1 ]; then
    cp "$server" "$work/bin/diffplane"
    server_bin=$work/bin/diffplane
  fi
  "$bench_root/scripts/pg" start "$work/pg" >/dev/null
  database_url=$("$bench_root/scripts/pg" createdb "$work/pg")
}

# A scenario that starts its server with --tls-cert sets bench_ca_file to the certificate
# first: the gateway then speaks HTTPS only, so probes and endpoints use https://.
bench_ca_file=

live_status() { # port -> status code of GET /live, or nothing
  local line
  if [ -n "$bench_ca_file" ]; then
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$bench_ca_file" \
      "https://127.0.0.1:$1/live" | grep -v '^000$' || true
    return 0
  fi
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 0
  printf 'GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  IFS=' ' read -r -t 2 _ line _ <&3 || true
  exec 3<&-
  echo "$line"
}

# Starts the server in the background with --log-level $1 and the further flags; returns
# at once (server_pid set). The first start listens on ports the kernel picks (port 0)
# and start_server reads them from the --port-file; a later launch (a restart) asks for
# the same ports again, which were the server's own a moment ago, so that the endpoint
# is known before the server listens.
launch_server() {
  local level=$1
  shift
  rm -f "$work/ports"
  # Every client of a benchmark connects from 127.0.0.1, standing for many hosts (10,000
  # parked polls, an SDK process with 10,000 calls in flight): no limit per address.
  "$server_bin" serve --listen "127.0.0.1:${server_port:-0}" --database-url "$database_url" \
    --management-secret "$bench_management_secret" --max-connections-per-address 0 \
    --metrics-listen "127.0.0.1:${metrics_port:-0}" --port-file "$work/ports" \
    --log-level "$level" "$@" >>"$work/server.log" 2>&1 &
  server_pid=$!
}

port_of() { awk -F= -v key="$1" '$1 == key { print $2 }' "$work/ports"; } # http|metrics

# launch_server, then wait (up to $wait_seconds, default 600) for its ports and for
# GET /live = 200.
start_server() {
  : >"$work/server.log"
  launch_server "$@"
  for _ in $(seq $((${wait_seconds:-600} * 10))); do
    if [ -z "$server_port" ] && [ -f "$work/ports" ]; then
      server_port=$(port_of http)
      metrics_port=$(port_of metrics)
    fi
    if [ -n "$server_port" ] && [ "$(live_status "$server_port")" = 200 ]; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid" 2>/dev/null || true
      server_pid=
      echo "$bench_name: the server exited before it was live" >&2
      exit 2
    fi
    sleep 0.1
  done
  echo "$bench_name: GET /live did not answer 200 in time" >&2
  exit 2
}

endpoint() { echo "http${bench_ca_file:+s}://127.0.0.1:$server_port"; }
metrics_endpoint() { echo "http://127.0.0.1:$metrics_port"; }

# A field of /proc/<pid>/status as a number (VmRSS in KiB, Threads).
proc_field() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

mib() { awk -v kib="$1" 'BEGIN { printf "%.1f MiB", kib / 1024 }'; }

# Epoch milliseconds of the first server log line with event=$1, or nothing.
log_event_ms() {
  local stamp
  stamp=$(grep -m1 "event=$1" "$work/server.log" | awk '{ print $1 }')
  [ -n "$stamp" ] && date -d "$stamp" +%s%3N
}

# A TCP port free at this moment, for flags that take no port 0 (--caf-port); another
# process may take it before the caller binds it, which a scenario then reports.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# CPU time of a process in clock ticks (getconf CLK_TCK a second), all its threads:
# utime+stime of /proc/<pid>/stat, plus cutime+cstime (its reaped children) when $2 is
# "children"; 0 when it is gone.
proc_cpu_ticks() {
  local stat fields
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
  # The command name (field 2) may hold spaces: split after its closing parenthesis,
  # so fields[0] is field 3 (state) and utime, field 14, is fields[11].
  read -r -a fields <<<"${stat##*) }"
  if [ "${2:-}" = children ]; then
    echo $((fields[11] + fields[12] + fields[13] + fields[14]))
  else
    echo $((fields[11] + fields[12]))
  fi
}

# CPU ticks of the Postgres of scripts/pg dir $1: the postmaster with the children it
# reaped (backends that ended) and every live child process. A backend that ends between
# two readings moves from the second sum into the first, so differences stay right.
postgres_cpu_ticks() {
  local postmaster total file stat fields
  { read -r postmaster <"$1/data/postmaster.pid"; } 2>/dev/null || { echo 0; return; }
  total=$(proc_cpu_ticks "$postmaster" children)
  # Builtins only (no process per /proc entry), so that the reading is quick and cheap.
  for file in /proc/[0-9]*/stat; do
    { read -r stat <"$file"; } 2>/dev/null || continue
    read -r -a fields <<<"${stat##*) }"
    [ "${fields[1]}" = "$postmaster" ] && total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

# Several nodes on the one throwaway Postgres (bench/forwarding, bench/takeover).
node_pids=()
stop_nodes() { kill -TERM "${node_pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }

# launch_node NAME [flags...]: a node with id NAME on a kernel-picked HTTP port and a
# free CAF port; waits until it is live and sets port_<NAME> and pid_<NAME>.
launch_node() {
  local name=$1
  shift
  "$server_bin" serve --listen 127.0.0.1:0 --port-file "$work/$name.ports" \
    --database-url "$database_url" --management-secret "$bench_management_secret" \
    --max-connections-per-address 0 --log-level warn --node-id "$name" \
    --caf-port "$(free_port)" "$@" >>"$work/$name.log" 2>&1 &
  node_pids+=($!)
  printf -v "pid_$name" '%s' "$!"
  local port=
  for _ in $(seq 300); do
    [ -f "$work/$name.ports" ] && port=$(awk -F= '$1 == "http" { print $2 }' "$work/$name.ports")
    [ -n "$port" ] && [ "$(live_status "$port")" = 200 ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "$bench_name: node $name did not start" >&2; tail "$work/$name.log" >&2; exit 2; }
  printf -v "port_$name" '%s' "$port"
}
