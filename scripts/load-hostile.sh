#!/usr/bin/env bash
# Hostile load test of `mtukit serve` (issue 14, docs/security.md): builds
# mtukit, starts `mtukit serve` with its defaults on a free loopback port and
# runs scripts/hostile against it for DURATION (default 20s, at most 120s):
# six slow uploaders (1 MB announced, a byte a second) and an interface-bomb
# uploader (5 M interface blocks, gzip'd), each from a loopback address of its
# own (127.0.1.x: Linux routes all of 127/8 to lo), while a normal client at
# 127.0.2.1 calls /api/v1/calc every 50 ms and uploads a small capture every
# 250 ms. It passes when the normal client's p99 latency stays under P99
# (default 50ms) and every answer it gets is 200. The server's peak memory
# (VmHWM) and the load average are printed, since the CPU is shared.
# BASELINE=1 runs the normal client alone (no attack), for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-20s}"
P99="${P99:-50ms}"
secs="${DURATION%s}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || ((secs < 1 || secs > 120)); then
  echo "DURATION must be 1s..120s" >&2; exit 2
fi

tmp="$(mktemp -d)"
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/mtukit" ./cmd/mtukit
go build -o "$tmp/hostile" ./scripts/hostile
"$tmp/mtukit" serve --listen 127.0.0.1:0 2>"$tmp/serve.log" &
srv=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's|^mtukit: serving on http://\([^/]*\)/$|\1|p' "$tmp/serve.log")"
  [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "$addr" ] || { echo "server did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }

echo "server: mtukit serve (defaults) on $addr; cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server memory at start: $(awk '/VmHWM/ {print $2, $3}' /proc/$srv/status)"
rc=0
"$tmp/hostile" -addr "$addr" -d "$DURATION" -p99 "$P99" ${BASELINE:+-slow 0 -bomb 0} ${HOSTILE_ARGS:-} \
  -capture capture/testdata/real/zeek__icmp_icmp6-toobig.pcap || rc=$?
echo "server peak memory (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$srv/status); load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
