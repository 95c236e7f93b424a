#!/usr/bin/env bash
# Side-by-side path MTU discovery benchmark on the namespace lab (root):
# per scenario (1400 with ICMP, 1400 black hole, odd MTUs 1417 and 1333,
# IPv6 1280, 1400 and a 1481 black hole, a VXLAN hop, random loss 1/3/5%, a forged PTB),
# mtukit with every plpmtud strategy, tracepath and a `ping -M do`
# bisection. Prints: probes on the wire, wall time, discovered vs true PMTU.
#   scripts/bench-probe.sh            all scenarios
#   scripts/bench-probe.sh "IPv6"     only scenarios whose name contains IPv6
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
MTUKIT_BENCH=1 MTUKIT_LAB=1 MTUKIT_BENCH_ONLY="${1:-}" MTUKIT_BENCH_OUT="$out" \
  go test -run 'TestBenchProbe' -count=1 -timeout 30m ./probe >/dev/null || {
  echo "benchmark failed; rerun with: MTUKIT_BENCH=1 go test -v -run TestBenchProbe ./probe" >&2
  exit 1
}
cat "$out"
