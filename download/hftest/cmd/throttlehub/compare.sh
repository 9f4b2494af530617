#!/bin/bash
# compare.sh times curl -L, aria2c -x4 and olm pull (default and --connections 4)
# against throttlehub at 25 MB/s per connection, each with its hash check, for the
# README's Pulls table. Run from the repository root after `make build`:
#
#	ROUNDS=3 download/hftest/cmd/throttlehub/compare.sh
set -u
OLM=${OLM:-bin/olm}
ROUNDS=${ROUNDS:-3}
W=$(mktemp -d)
trap 'kill $HUBPID 2>/dev/null; rm -rf "$W"' EXIT
go build -o "$W/throttlehub" ./download/hftest/cmd/throttlehub || exit 1
"$W/throttlehub" -rate 25000000 -mib 64,256,1024 >"$W/hub.txt" 2>&1 &
HUBPID=$!
until grep -q serving "$W/hub.txt"; do sleep 0.5; done
EP=$(sed -n 's/^HF_ENDPOINT=//p' "$W/hub.txt")

# secs CMD...: wall-clock seconds of CMD (its output dropped, a failure reported).
secs() {
	local s
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || echo "FAILED: $*" >&2
	echo "$(date +%s.%N) - $s" | bc
}
fresh() { rm -rf "$W/dl" && mkdir -p "$W/dl"; }
olm() { env HF_ENDPOINT="$EP" HF_HUB_CACHE="$W/dl/hub" HF_HOME="$W/dl/hf" OLM_HOME="$W/dl/olm" HF_TOKEN= "$OLM" "$@"; }

for r in $(seq "$ROUNDS"); do
	for mib in 64 256 1024; do
		line=$(grep "^bench-${mib}M.gguf" "$W/hub.txt")
		url=${line##*url=}
		sha=$(echo "$line" | sed 's/.*sha256=\([0-9a-f]*\).*/\1/')
		name=hf.co/olm-dev/bench-GGUF:bench-${mib}M.gguf
		fresh; tc=$(secs bash -c "curl -sfL -o '$W/dl/f' '$url' && echo '$sha  $W/dl/f' | sha256sum -c --quiet")
		fresh; ta=$(secs aria2c -x4 -q -d "$W/dl" -o f --checksum=sha-256="$sha" "$url")
		fresh; to=$(secs olm pull -q "$name")
		[ -e "$W/dl/hub/models--olm-dev--bench-GGUF/blobs/$sha" ] || echo "olm: no verified blob $sha" >&2
		fresh; t4=$(secs olm pull -q --connections 4 "$name")
		printf "round %d %5d MiB  curl %6.2f s  aria2c %6.2f s  olm %6.2f s  olm-c4 %6.2f s  olm/aria2c %.2fx  olm/curl %.2fx  olm-c4/aria2c %.2fx\n" \
			"$r" "$mib" "$tc" "$ta" "$to" "$t4" "$(echo "$ta/$to" | bc -l)" "$(echo "$tc/$to" | bc -l)" "$(echo "$ta/$t4" | bc -l)"
	done
done
# Peak RSS of a 1 GiB pull (env execs olm, so time measures olm itself).
fresh
/usr/bin/time -v env HF_ENDPOINT="$EP" HF_HUB_CACHE="$W/dl/hub" HF_HOME="$W/dl/hf" OLM_HOME="$W/dl/olm" HF_TOKEN= \
	"$OLM" pull -q hf.co/olm-dev/bench-GGUF:bench-1024M.gguf 2>&1 >/dev/null | grep -E "Maximum resident|Elapsed"
