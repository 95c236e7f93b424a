#!/usr/bin/env bash
# Runs every mtukit test: installs what the tests need (Debian packages) when
# missing, then go vet (also for macOS and Windows) and go test -race with the namespace lab enabled.
# MTUKIT_LAB=1 (the default here) turns "needs root" skips into failures;
# set MTUKIT_LAB=0 on a laptop without root to skip the lab tests instead.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use, as "command:package".
need=(ip:iproute2 nft:nftables iptables:iptables tcpdump:tcpdump tshark:tshark
      ethtool:ethtool ping:iputils-ping tracepath:iputils-tracepath modprobe:kmod
      chromium:chromium prometheus:prometheus promtool:prometheus)
missing=()
for pair in "${need[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: missing ${missing[*]} and cannot install them (not root or no apt-get)" >&2
  fi
fi

export MTUKIT_LAB="${MTUKIT_LAB:-1}"
go vet ./...
# the tool must build on macOS and Windows (Linux-only code sits behind
# _linux.go files and build tags)
GOOS=darwin go vet ./...
GOOS=windows go build ./...
GOOS=windows go vet ./...
go test -race -count=1 -timeout 25m ./...
