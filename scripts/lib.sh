# Shared by rlink's start/stop scripts (sourced, not run). A host's layout, all under the work dir:
#   lib/rlink.mjs            the rlink runtime (one self-contained bundle)
#   scripts/                 these scripts
#   run/<daemon>.pid         pid of a running daemon; run/<daemon>.ready its ready line (JSON)
#   log/<daemon>.log         its log (pino JSON lines on stderr)
# Environment: RLINK_WORK_DIR (default: the parent of this directory), RLINK_NODE (default: node),
# RLINK_START_TIMEOUT / RLINK_STOP_TIMEOUT in seconds (default 30 / 10).

RLINK_WORK_DIR="${RLINK_WORK_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
RLINK_NODE="${RLINK_NODE:-node}"
RUN_DIR="$RLINK_WORK_DIR/run"
LOG_DIR="$RLINK_WORK_DIR/log"

# One machine-readable line per action, read by `rlink deploy|stop|status standalone`.
status_line() { # daemon state pid [ready-json]
  printf 'RLINK_STATUS {"daemon":"%s","state":"%s","pid":%s,"ready":%s}\n' "$1" "$2" "${3:-null}" "${4:-null}"
}

# Whether a process is alive (a zombie, e.g. our own child that just died, is not).
alive() { # pid
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/stat" ]; then
    [ "$(sed 's/^.*) \([A-Z]\).*/\1/' "/proc/$1/stat")" != Z ] || return 1
  fi
  return 0
}

# The pid in a pid file when that process is alive and is an rlink daemon (a stale file or a
# reused pid counts as not running).
running_pid() { # daemon
  pidfile="$RUN_DIR/$1.pid"
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null)
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  alive "$pid" || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'rlink' || return 1
  fi
  echo "$pid"
}

# Node ≥ 20 or a clear error (exit 3). `rlink deploy` has checked already and says so with
# RLINK_NODE_CHECKED=1 (saves a node start per daemon on every host).
check_node() {
  [ "${RLINK_NODE_CHECKED:-}" = 1 ] && return 0
  version=$("$RLINK_NODE" --version 2>/dev/null) || { echo "rlink: node not found on $(hostname) (looked for '$RLINK_NODE'; install Node.js ≥ 20 or set RLINK_NODE)" >&2; exit 3; }
  major=$(echo "$version" | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p')
  if [ -z "$major" ] || [ "$major" -lt 20 ]; then
    echo "rlink: Node.js $version on $(hostname) is too old (rlink needs ≥ 20)" >&2; exit 3
  fi
}

# Starts `node lib/rlink.mjs <args>` in the background as <daemon>, idempotently, and waits until it
# prints its ready line or dies (then the log's tail is shown and the exit code is 1).
start_daemon() { # daemon args...
  daemon="$1"; shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  if pid=$(running_pid "$daemon"); then
    echo "$daemon already running (pid $pid)"
    status_line "$daemon" running "$pid" "$(cat "$RUN_DIR/$daemon.ready" 2>/dev/null | head -n 1 || true)"
    exit 0
  fi
  check_node
  [ -f "$RLINK_WORK_DIR/lib/rlink.mjs" ] || { echo "rlink: $RLINK_WORK_DIR/lib/rlink.mjs is missing (deploy the runtime first)" >&2; exit 2; }
  ready="$RUN_DIR/$daemon.ready"
  : > "$ready"
  echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) starting $daemon: $*" >> "$LOG_DIR/$daemon.log"
  nohup "$RLINK_NODE" "$RLINK_WORK_DIR/lib/rlink.mjs" "$@" --json > "$ready" 2>> "$LOG_DIR/$daemon.log" < /dev/null &
  pid=$!
  echo "$pid" > "$RUN_DIR/$daemon.pid"
  deadline=$(( $(date +%s) + ${RLINK_START_TIMEOUT:-30} ))
  while :; do
    if [ -s "$ready" ] && grep -q '^{"error"' "$ready"; then
      # The daemon refused to start (with --json its one-line reason is on stdout).
      reason=$(head -n 1 "$ready" | sed -n 's/.*"message":"\(.*\)"}}$/\1/p')
      i=0; while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null
      rm -f "$RUN_DIR/$daemon.pid"
      echo "rlink: $daemon failed to start on $(hostname): ${reason:-$(head -n 1 "$ready")}" >&2
      status_line "$daemon" failed null "$(head -n 1 "$ready")"
      exit 1
    fi
    if [ -s "$ready" ]; then
      echo "$daemon started (pid $pid), log $LOG_DIR/$daemon.log"
      status_line "$daemon" started "$pid" "$(head -n 1 "$ready")"
      exit 0
    fi
    if ! alive "$pid"; then
      rm -f "$RUN_DIR/$daemon.pid"
      reason=$(grep -v '^---' "$LOG_DIR/$daemon.log" | tail -n 5 | sed -n 's/.*"msg":"\([^"]*\)".*/\1/p' | tail -n 1)
      echo "rlink: $daemon failed to start on $(hostname): ${reason:-see $LOG_DIR/$daemon.log}" >&2
      tail -n 5 "$LOG_DIR/$daemon.log" >&2
      status_line "$daemon" failed null
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "rlink: $daemon (pid $pid) did not get ready within ${RLINK_START_TIMEOUT:-30}s; stopping it" >&2
      kill -KILL "$pid" 2>/dev/null; rm -f "$RUN_DIR/$daemon.pid"
      exit 1
    fi
    sleep 0.1
  done
}

# SIGTERM, wait up to RLINK_STOP_TIMEOUT seconds, then SIGKILL. Idempotent.
stop_daemon() { # daemon
  daemon="$1"
  if ! pid=$(running_pid "$daemon"); then
    rm -f "$RUN_DIR/$daemon.pid" "$RUN_DIR/$daemon.ready"
    echo "$daemon not running"
    status_line "$daemon" stopped
    exit 0
  fi
  kill -TERM "$pid" 2>/dev/null
  deadline=$(( $(date +%s) + ${RLINK_STOP_TIMEOUT:-10} ))
  state=stopped
  while alive "$pid"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "$daemon (pid $pid) still running after ${RLINK_STOP_TIMEOUT:-10}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null; state=killed
      i=0; while alive "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
      break
    fi
    sleep 0.1
  done
  rm -f "$RUN_DIR/$daemon.pid" "$RUN_DIR/$daemon.ready"
  echo "$daemon stopped (pid $pid)"
  status_line "$daemon" "$state" "$pid"
}
