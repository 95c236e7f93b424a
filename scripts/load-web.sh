#!/usr/bin/env bash
# Load test of GET /api/v1/calc on loopback: builds mtukit, starts
# `mtukit serve` on a free loopback port, drives it with wrk (Debian's
# package) or, without wrk, with scripts/loadgen, for DURATION (default 10s,
# at most 120s) with CONNS connections (default 64), and reports requests per
# second, p99 latency and errors. The per-client rate limit is turned off
# (--rate-limit 0): all the load comes from one loopback client, which the
# default limit (200 req/s) would refuse, and that refusal is tested apart.
# The load average is printed before and after, since the CPU is shared.
# VARY=1 changes the link MTU on every request (1280..8999), so nearly every
# request misses the server's report cache and computes a fresh report.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
CONNS="${CONNS:-64}"
THREADS="${THREADS:-2}"
STACK="${STACK:-pppoe/esp(aes-gcm-16)/gre}"
VARY="${VARY:-0}"
secs="${DURATION%s}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || ((secs < 1 || secs > 120)); then
  echo "DURATION must be 1s..120s" >&2; exit 2
fi

tmp="$(mktemp -d)"
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/mtukit" ./cmd/mtukit
"$tmp/mtukit" serve --listen 127.0.0.1:0 --rate-limit 0 2>"$tmp/serve.log" &
srv=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's|^mtukit: serving on http://\([^/]*\)/$|\1|p' "$tmp/serve.log")"
  [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "$addr" ] || { echo "server did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }

q="$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$STACK" 2>/dev/null || echo 'pppoe%2Fesp%28aes-gcm-16%29%2Fgre')"
url="http://$addr/api/v1/calc?stack=$q"
curl -fsS "$url" >/dev/null || { echo "GET $url failed" >&2; exit 1; }

echo "target: GET $url"
echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v wrk >/dev/null; then
  script=()
  [ "$VARY" = 1 ] && script=(-s scripts/load-web-vary.lua)
  echo "tool: wrk -t$THREADS -c$CONNS -d$DURATION --latency ${script[*]}"
  out="$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s --latency "${script[@]}" "$url")"
  echo "$out" | sed 's/^/  wrk| /'
  rps="$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')"
  p99="$(echo "$out" | awk '$1=="99%" {print $2}')"
  non2xx="$(echo "$out" | awk -F': ' '/Non-2xx or 3xx responses/ {print $2}')"
  sock="$(echo "$out" | awk '/Socket errors:/ {s=0; for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+,?$/) s+=$i; print s}')"
  errors=$(( ${non2xx:-0} + ${sock:-0} ))
else
  echo "tool: scripts/loadgen -c $CONNS -d $DURATION (wrk not installed)"
  go build -o "$tmp/loadgen" ./scripts/loadgen
  vary=()
  [ "$VARY" = 1 ] && vary=(-vary)
  out="$("$tmp/loadgen" -url "$url" -c "$CONNS" -d "$DURATION" "${vary[@]}")"
  echo "$out" | sed 's/^/  loadgen| /'
  rps="$(echo "$out" | awk '/^requests\/s:/ {print $2}')"
  p99="$(echo "$out" | awk '/^p99:/ {print $2}')"
  errors="$(echo "$out" | awk '/^errors:/ {print $2}')"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "RESULT requests/s=$rps p99=$p99 errors=$errors"
[ "$errors" = 0 ]
