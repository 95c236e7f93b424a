#!/usr/bin/env bash
# Speed of `mtukit analyze` against `tshark -T fields` (extracting the MSS and
# ICMP MTU fields) on large captures, in packets per second per core.
#
# Captures (rebuilt every run, deterministic):
#   synth-snap128.pcap  3M packets, tcpdump -s 128 style   (internal/tracegen, seed 1)
#   synth-full.pcap     500k whole frames                   (internal/tracegen, seed 1)
#   synth-full.pcapng   the same converted by editcap to pcapng (nanosecond timestamps)
#   lab.pcap            800 MB downloaded over 8 connections through a router in
#                       network namespaces, captured whole (paced so that tcpdump
#                       keeps every packet: about 890 MB, 600k packets; needs
#                       root; LAB=0 skips, LAB_MB=N sets the size)
#   lab.pcapng          the same converted by editcap
#
# "Per core" is packets divided by the CPU time (user + system) the process
# used, so the figure holds on a busy machine; wall time is shown too. The
# "net" column takes out mtukit's fixed start-up (a one-packet capture's CPU
# time, printed below): the rate at which it goes through packets. mtukit
# runs with GOMAXPROCS=1 (one core, its garbage collector included); tshark is
# single-threaded. Each tool reads the file from the page cache.
#
# Usage: scripts/bench-analyze.sh            (files in a temporary directory)
#        BENCH_DIR=/tmp/bench RUNS=5 scripts/bench-analyze.sh
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-$(mktemp -d)}
runs=${RUNS:-3}
mkdir -p "$dir"
for tool in tshark capinfos editcap; do
  command -v "$tool" >/dev/null || { echo "bench-analyze: $tool is needed (apt-get install tshark)" >&2; exit 1; }
done

echo "building into $dir"
go build -o "$dir/mtukit" ./cmd/mtukit
go build -o "$dir/tracegen" ./internal/tracegen/cmd/tracegen
"$dir/tracegen" -o "$dir/synth-snap128.pcap" -packets 3000000 -snap 128 -seed 1
"$dir/tracegen" -o "$dir/synth-full.pcap" -packets 500000 -seed 1
editcap -F pcapng "$dir/synth-full.pcap" "$dir/synth-full.pcapng"
files=("$dir/synth-snap128.pcap" "$dir/synth-full.pcap" "$dir/synth-full.pcapng")
if [ "${LAB:-1}" = 1 ] && [ "$(id -u)" = 0 ]; then
  rm -f "$dir/lab.pcap"
  MTUKIT_LAB=1 MTUKIT_LABCAP="$dir/lab.pcap" MTUKIT_LABCAP_MB="${LAB_MB:-800}" \
    go test ./capture -run '^TestLabLargeCapture$' -count=1 >/dev/null
  editcap -F pcapng "$dir/lab.pcap" "$dir/lab.pcapng"
  files+=("$dir/lab.pcap" "$dir/lab.pcapng")
fi

# cpu CMD...: runs CMD, prints "cpu_seconds wall_seconds"; the CPU time is
# the children's user + system time from bash's times (getrusage, to the
# millisecond; /usr/bin/time rounds to 10 ms)
cpu() {
  local t0 t1 ch
  t0=$(date +%s.%N)
  ch=$( { "$@" >/dev/null 2>&1; times; } | tail -1)
  t1=$(date +%s.%N)
  awk -v ch="$ch" -v t0="$t0" -v t1="$t1" 'BEGIN {
    split(ch, f, " "); s = 0
    for (i = 1; i <= 2; i++) { split(f[i], ms, /[ms]/); s += ms[1] * 60 + ms[2] }
    printf "%.3f %.3f\n", s, t1 - t0 }'
}

# the fixed cost of a run: start-up (runtime, package initialisation, the
# binary's pages) on a one-packet capture
one="$dir/one.pcap"
"$dir/tracegen" -o "$one" -packets 1 -seed 1 >/dev/null
best=""
for _ in $(seq "$runs"); do
  r=$(GOMAXPROCS=1 cpu "$dir/mtukit" analyze --json "$one")
  if [ -z "$best" ] || awk -v a="${r%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best=$r; fi
done
up=${best%% *}
printf '\n%-20s %9s %8s | %-41s | %-28s | %s\n' file packets MB "mtukit: cpu s, wall s, pkt/s/core (net)" "tshark: cpu s, wall s, pkt/s/core" ratio
for f in "${files[@]}"; do
  pkts=$(capinfos -M -c "$f" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
  mb=$(( $(stat -c %s "$f") / 1048576 ))
  cat "$f" >/dev/null # page cache, for both tools alike
  best=""
  for _ in $(seq "$runs"); do
    r=$(GOMAXPROCS=1 cpu "$dir/mtukit" analyze --json "$f")
    if [ -z "$best" ] || awk -v a="${r%% *}" -v b="${best%% *}" 'BEGIN{exit !(a<b)}'; then best=$r; fi
  done
  ts=$(cpu tshark -n -r "$f" -T fields -e frame.number -e tcp.options.mss_val -e icmp.mtu -e icmpv6.mtu)
  read -r mc mw <<<"$best"
  read -r tc tw <<<"$ts"
  printf '%-20s %9d %8d | %6.3f %6.3f %12.0f (%12.0f)  | %6.3f %6.3f %12.0f  | %.0fx\n' \
    "$(basename "$f")" "$pkts" "$mb" "$mc" "$mw" "$(awk -v p="$pkts" -v c="$mc" 'BEGIN{print p/c}')" \
    "$(awk -v p="$pkts" -v c="$mc" -v u="$up" 'BEGIN{print (c > u) ? p/(c-u) : 0}')" \
    "$tc" "$tw" "$(awk -v p="$pkts" -v c="$tc" 'BEGIN{print p/c}')" "$(awk -v a="$tc" -v b="$mc" 'BEGIN{print a/b}')"
done
echo
echo "start-up: mtukit analyze on a one-packet capture takes $up CPU seconds (taken out of the net column)"
echo
echo "in-process (go test -bench, one core, in memory): whole analysis of 400k packets cut at 128 bytes;"
echo "the readers alone on 30k whole frames"
go test ./capture -run '^$' -bench '^(BenchmarkAnalyze|BenchmarkRead)$' -benchtime 5x -count 1 -cpu 1 | grep -E '^Benchmark'
