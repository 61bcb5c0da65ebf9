#!/bin/sh
# Prints the state of every rlink daemon of this host (one RLINK_STATUS line each; none when
# nothing was ever started here).
set -u
. "$(dirname "$0")/lib.sh"
for f in "$RUN_DIR"/*.pid; do
  [ -e "$f" ] || continue
  d=$(basename "$f" .pid)
  if pid=$(running_pid "$d"); then
    echo "$d running (pid $pid)"; status_line "$d" running "$pid" "$(head -n 1 "$RUN_DIR/$d.ready" 2>/dev/null || true)"
  else
    echo "$d not running (stale pid file)"; status_line "$d" dead null
  fi
done
exit 0
