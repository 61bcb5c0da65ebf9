#!/bin/sh
# Stops this host's rlink task manager (`--instance N`, default 0; `--all` for every one):
# SIGTERM, then SIGKILL after RLINK_STOP_TIMEOUT seconds (default 10). Idempotent.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" = "--all" ]; then
  for f in "$RUN_DIR"/taskmanager-*.pid; do
    [ -e "$f" ] || continue
    d=$(basename "$f" .pid)
    ( stop_daemon "$d" )
  done
  exit 0
fi
instance=0
if [ "${1:-}" = "--instance" ]; then instance="$2"; fi
stop_daemon "taskmanager-$instance"
