#!/usr/bin/env bash
# Compiles the Kafka test broker (mock-broker.c, librdkafka's mock cluster) into
# test/kafka/.bin/mock-broker. Idempotent: does nothing when the binary is newer than
# the source. Needs a C compiler, pkg-config and librdkafka-dev (Debian: librdkafka-dev
# pkg-config). Prints the binary's path on success.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/mock-broker.c"
out="${1:-$here/.bin/mock-broker}"

if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then
  echo "$out"
  exit 0
fi
command -v pkg-config >/dev/null || { echo "build.sh: pkg-config not found (apt-get install pkg-config)" >&2; exit 1; }
pkg-config --exists rdkafka || { echo "build.sh: librdkafka not found by pkg-config (apt-get install librdkafka-dev)" >&2; exit 1; }
cc="${CC:-cc}"
command -v "$cc" >/dev/null || { echo "build.sh: no C compiler ($cc)" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# shellcheck disable=SC2046
"$cc" -O2 -Wall -Wextra -std=c11 -o "$tmp" "$src" $(pkg-config --cflags --libs rdkafka)
mv -f "$tmp" "$out"
echo "$out"
