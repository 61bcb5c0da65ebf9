#!/bin/sh
# Starts rlink's job manager on this host in the background (nohup), idempotently: a second start
# reports the running pid. Arguments go to `rlink jobmanager start`, e.g.
#   scripts/start_job_manager.sh --port 8770 --bind 0.0.0.0 --token-file /data/rlink/token
# pid: <work dir>/run/jobmanager.pid, log: <work dir>/log/jobmanager.log (see scripts/lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
start_daemon jobmanager jobmanager start "$@"
