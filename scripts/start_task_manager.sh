#!/bin/sh
# Starts an rlink task manager on this host in the background (nohup), idempotently. The first
# argument may be `--instance N` (default 0) for the N-th task manager of this host (a host listed
# twice in task_managers runs two). The other arguments go to `rlink taskmanager start`, e.g.
#   scripts/start_task_manager.sh --instance 0 --jm http://10.1.2.0:8770 --slots 2 --token-file /data/rlink/token
# pid: <work dir>/run/taskmanager-N.pid, log: <work dir>/log/taskmanager-N.log (see scripts/lib.sh).
set -u
instance=0
if [ "${1:-}" = "--instance" ]; then instance="$2"; shift 2; fi
. "$(dirname "$0")/lib.sh"
start_daemon "taskmanager-$instance" taskmanager start "$@"
