#!/bin/sh
# Stops this host's rlink job manager: SIGTERM, then SIGKILL after RLINK_STOP_TIMEOUT seconds
# (default 10). Idempotent: "not running" is not an error.
set -u
. "$(dirname "$0")/lib.sh"
stop_daemon jobmanager
