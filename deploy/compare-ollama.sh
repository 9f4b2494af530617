#!/usr/bin/env bash
# compare-ollama.sh: olm serve against ollama serve on the same GGUF file, in one sitting.
#
# It starts, one after another (never together, they would share the cores):
#   1. ollama serve with its defaults (OLLAMA_NUM_PARALLEL=1: requests queue)
#   2. ollama serve with OLLAMA_NUM_PARALLEL=4
#   3. olm serve --parallel P for each P in OLM_PARALLEL (default 4, olm's default)
# imports MODEL into each (ollama create / olm import, both into a temp dir), warms the model
# with one tiny request, then fires CLIENTS concurrent streaming /api/generate requests of
# TOKENS tokens each (same prompt, raw, temperature 0) and prints per config: aggregate
# tokens/s (all generated tokens / wall time from the first send to the last stream's end) and
# p50/p95 time to first token (send to first streamed token). Both servers get THREADS
# threads and CTX tokens of context per sequence (ollama: num_ctx is per sequence, its KV
# cache is num_ctx * NUM_PARALLEL; olm: --ctx is per slot), and batch 512 (both defaults).
#
# Run it on an idle machine: ggml's threads spin-wait on each other, so with 2 threads on 2
# busy cores generation can be 30x slower (0.7 vs 25 tok/s measured on this box).
#
# Usage:  deploy/compare-ollama.sh                 (the full run: 4 clients x 64 tokens)
#         CLIENTS=4 TOKENS=8 deploy/compare-ollama.sh   (a quick check that it all works)
# The load client is deploy/loadclient (Go, stdlib only), built into the temp dir.
#
# ollama itself: the module zip of github.com/ollama/ollama@v0.17.4 lacks
# llama/llama.cpp/vendor/ (nlohmann, stb, miniaudio headers), so build it from the git tag
# v0.17.4 (commit cc90a035a0cc) with olm's flags; the CPU backend is linked in by cgo:
#   export CGO_ENABLED=1 CGO_CFLAGS="-O3 -march=native" CGO_CXXFLAGS="-O3 -march=native" CGO_CPPFLAGS="-DGGML_USE_CPU_REPACK"
#   go build -trimpath -ldflags "-X github.com/ollama/ollama/version.Version=0.17.4" -o ollama .
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OLLAMA_BIN=${OLLAMA_BIN:-ollama}
OLM_BIN=${OLM_BIN:-$REPO/bin/olm}
MODEL=${MODEL:-$HOME/.cache/olm/bench/tinyllama-1.1b-q4_k_m.gguf} # what the Go benchmarks write
CLIENTS=${CLIENTS:-4}
TOKENS=${TOKENS:-64}
THREADS=${THREADS:-2}
CTX=${CTX:-2048}
OLM_PARALLEL=${OLM_PARALLEL:-4}
OLLAMA_PORT=${OLLAMA_PORT:-11500}
OLM_PORT=${OLM_PORT:-11501}
PROMPT=${PROMPT:-"Once upon a time, in a small village by the sea, there lived"}
NAME=tiny # the model's name in both servers

die() { echo "compare-ollama: $*" >&2; exit 1; }
command -v "$OLLAMA_BIN" >/dev/null || die "OLLAMA_BIN=$OLLAMA_BIN is not an executable (build it: see the top of this script)"
[ -x "$OLM_BIN" ] || die "OLM_BIN=$OLM_BIN is not an executable (run make in $REPO)"
[ -f "$MODEL" ] || die "MODEL=$MODEL does not exist (give a GGUF file)"
command -v curl >/dev/null || die "curl is missing (apt-get install curl)"
MODEL=$(realpath "$MODEL")

# Everything either server writes (ollama's blob copy of MODEL, olm's import registry, logs)
# goes here and is removed at the end; KEEP=1 keeps it for a look at the logs.
WORK=$(mktemp -d -t compare-ollama.XXXXXX)
SERVER_PID=""
stop_server() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill "$SERVER_PID" # SIGTERM: ollama also stops its runner process, olm drains
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=""
}
cleanup() {
	stop_server
	if [ "${KEEP:-0}" = 1 ]; then echo "logs and state kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LOADCLIENT="$WORK/loadclient"
(cd "$REPO" && go build -o "$LOADCLIENT" ./deploy/loadclient) || die "cannot build the load client (deploy/loadclient)"

# wait_up URL LOG: until the server answers /api/version, or fail showing its log.
wait_up() {
	for _ in $(seq 1 100); do
		curl -sf "$1/api/version" >/dev/null 2>&1 && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$2" >&2; die "server exited at start (log above)"; }
		sleep 0.2
	done
	tail -20 "$2" >&2
	die "server not answering at $1 after 20s"
}
port_free() {
	! curl -s -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null || die "port $1 is in use: stop what listens there or set ${2}"
}

# measure URL LABEL: warm the model (loads it; a different prompt, so the measured prompt is
# not already cached), then the concurrent run. Options are the same for both servers; olm
# ignores num_thread (it takes --threads) and accepts num_ctx up to --ctx.
OPTS="{\"num_thread\":$THREADS,\"num_ctx\":$CTX}"
measure() {
	"$LOADCLIENT" -url "$1" -model "$NAME" -clients 1 -tokens 2 -prompt "Hello" -options "$OPTS" -label warm >/dev/null ||
		die "$2: warm-up request failed (server log: KEEP=1 and see $WORK)"
	"$LOADCLIENT" -url "$1" -model "$NAME" -clients "$CLIENTS" -tokens "$TOKENS" -prompt "$PROMPT" -options "$OPTS" -label "$2"
}

echo "model $MODEL; $CLIENTS clients x $TOKENS tokens, $THREADS threads, ctx $CTX per sequence"
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg) (numbers are only fair on an idle machine)"
echo "ollama: $("$OLLAMA_BIN" --version 2>&1 | grep -o 'client version is .*' || true)"

# ollama. HOME points into WORK too: ollama serve writes a key pair under ~/.ollama.
mkdir -p "$WORK/ollama-models" "$WORK/ollama-home"
printf 'FROM %s\nPARAMETER num_ctx %s\nPARAMETER num_thread %s\n' "$MODEL" "$CTX" "$THREADS" >"$WORK/Modelfile"
OURL="http://127.0.0.1:$OLLAMA_PORT"
created=0
for par in default 4; do
	port_free "$OLLAMA_PORT" OLLAMA_PORT
	log="$WORK/ollama-$par.log"
	env_par=()
	[ "$par" = default ] || env_par=(OLLAMA_NUM_PARALLEL="$par")
	env HOME="$WORK/ollama-home" OLLAMA_HOST="127.0.0.1:$OLLAMA_PORT" OLLAMA_MODELS="$WORK/ollama-models" \
		OLLAMA_NOPRUNE=1 "${env_par[@]}" "$OLLAMA_BIN" serve >"$log" 2>&1 &
	SERVER_PID=$!
	wait_up "$OURL" "$log"
	if [ $created = 0 ]; then
		OLLAMA_HOST="127.0.0.1:$OLLAMA_PORT" "$OLLAMA_BIN" create "$NAME" -f "$WORK/Modelfile" >"$WORK/create.log" 2>&1 ||
			{ cat "$WORK/create.log" >&2; die "ollama create failed"; }
		created=1
	fi
	measure "$OURL" "ollama NUM_PARALLEL=$par"
	# What the runner really used (parallel, KV size, threads, CPU features), for the record.
	grep -o 'msg=system .*' "$log" | head -1 | sed 's/^/    /' || true
	grep -o 'Parallel:[0-9]* BatchSize:[0-9]* [^ ]* KvSize:[0-9]*.*NumThreads:[0-9]*' "$log" | head -1 | sed 's/^/    /' || true
	stop_server
done

# olm. OLLAMA_MODELS points at an empty dir so olm (which also lists ollama's models) sees
# only its own import.
mkdir -p "$WORK/olm-home" "$WORK/empty"
export OLM_HOME="$WORK/olm-home"
OLLAMA_MODELS="$WORK/empty" "$OLM_BIN" import "$MODEL" --name "$NAME" >"$WORK/import.log" 2>&1 ||
	{ cat "$WORK/import.log" >&2; die "olm import failed"; }
MURL="http://127.0.0.1:$OLM_PORT"
for par in $OLM_PARALLEL; do
	port_free "$OLM_PORT" OLM_PORT
	log="$WORK/olm-$par.log"
	env -u OLM_HOST -u OLM_API_KEY OLLAMA_MODELS="$WORK/empty" "$OLM_BIN" serve --port "$OLM_PORT" --parallel "$par" --ctx "$CTX" \
		--threads "$THREADS" --batch 512 >"$log" 2>&1 &
	SERVER_PID=$!
	wait_up "$MURL" "$log"
	measure "$MURL" "olm --parallel $par"
	stop_server
done
