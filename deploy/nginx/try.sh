#!/usr/bin/env bash
# Runs README's "Scale out" on loopback: two olm serve replicas behind nginx, a hash on
# X-Conversation-Id, and a replica drained with SIGTERM while it streams.
# Usage: deploy/nginx/try.sh MODEL.gguf   (needs bin/olm and nginx)
set -euo pipefail
model=$1
olm=$(cd "$(dirname "$0")/../.." && pwd)/bin/olm
work=$(mktemp -d); mkdir -p /tmp/olm-nginx
trap 'kill $(jobs -p) 2>/dev/null || true; nginx -c "$conf" -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
conf=$(cd "$(dirname "$0")" && pwd)/olm.conf
declare -A pid
for port in 18601 18602; do
  OLM_HOME=$work/$port HF_HUB_CACHE=$work/$port/hub "$olm" import "$model" --name m >/dev/null
  OLM_HOME=$work/$port HF_HUB_CACHE=$work/$port/hub OLM_HOST=127.0.0.1:$port "$olm" serve m 2>"$work/$port.log" &
  pid[$port]=$!
done
until curl -sf 127.0.0.1:18601/health >/dev/null && curl -sf 127.0.0.1:18602/health >/dev/null; do sleep 0.2; done
nginx -c "$conf"
ask() { curl -s 127.0.0.1:18600/v1/completions -H "X-Conversation-Id: $1" -d "{\"model\":\"m\",\"prompt\":\"Once upon a time\",\"max_tokens\":${2:-8}${3:-}}"; }
served_by() { for p in 18601 18602; do echo "$p: $(grep -c 'path=/v1/completions' "$work/$p.log" || true)"; done; }
for c in alice bob carol dave; do for i in 1 2 3; do ask $c >/dev/null; done; done
echo "completions per replica after 4 conversations x 3 requests:"; served_by
# Which replica holds alice's conversation?
before=$(grep -c 'path=/v1/completions' "$work/18601.log" || true); ask alice >/dev/null
after=$(grep -c 'path=/v1/completions' "$work/18601.log" || true)
home=18602; [ "$after" -gt "$before" ] && home=18601
echo "alice's replica: $home; draining it with SIGTERM while alice streams"
ask alice 400 ',"stream":true' >"$work/stream.txt" &
streamer=$!
sleep 0.5
kill -TERM "${pid[$home]}"
wait $streamer
echo "the running stream ended with: $(grep -o '"finish_reason":"[a-z]*"' "$work/stream.txt" | tail -1), then $(tail -c 15 "$work/stream.txt")"
echo "a new request for alice: $(ask alice | grep -o '"finish_reason":"[a-z]*"')"
served_by
