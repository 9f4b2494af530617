package runner

/*
#include <stdlib.h>
#include "llama.h"
#include "ggml-cpu.h"

// Without a threadpool of its own, ggml (built without OpenMP, as cgo builds it) starts
// and joins its worker threads for every graph: once per generated token. A persistent
// pool, as llama-bench and llama-cli attach, removes that cost.
static struct ggml_threadpool *olm_threadpool_new(int n_threads) {
	struct ggml_threadpool_params p = ggml_threadpool_params_default(n_threads);
	return ggml_threadpool_new(&p);
}

#include "loop.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"
	"unsafe"
)

// FlashAttn selects flash attention.
type FlashAttn int

const (
	FlashAttnAuto FlashAttn = -1
	FlashAttnOff  FlashAttn = 0
	FlashAttnOn   FlashAttn = 1
)

// kvTypes are the KV cache element types accepted by --ctk/--ctv (the ggml_type numbers).
var kvTypes = map[string]int{"f32": 0, "f16": 1, "bf16": 30, "q8_0": 8, "q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7}

// kvType looks up a KV cache type by name.
func kvType(name string) (int, error) {
	t, ok := kvTypes[name]
	if !ok {
		return 0, fmt.Errorf("KV cache type %q is unknown; use one of f16, f32, bf16, q8_0, q4_0, q4_1, q5_0, q5_1", name)
	}
	return t, nil
}

// ContextOptions size a context. Zero values take llama.cpp's defaults, except Ctx, which
// the caller must choose.
type ContextOptions struct {
	Ctx          int // tokens of KV cache
	Batch        int // logical batch for prompt evaluation (default 2048, capped at Ctx)
	UBatch       int // physical batch (default 512)
	Threads      int // generation threads (default: physical cores)
	ThreadsBatch int // prompt threads (default: Threads)
	FlashAttn    FlashAttn
	TypeK, TypeV string // KV cache types, "" = f16
	// Seqs is how many sequences the context decodes together (0 or 1: one). With more,
	// the KV cache is unified: its Ctx cells are shared by all sequences, as llama-server
	// does, so one long conversation and several short ones fit the same cache.
	Seqs int
}

// Context is a llama.cpp context plus everything the generation loop reuses between
// tokens: one batch, one piece buffer, and a record of what the KV cache holds.
type Context struct {
	model  *Model
	c      *C.struct_llama_context
	pools  []*C.struct_ggml_threadpool // generation pool, then the prompt pool if its size differs
	batch  C.struct_llama_batch
	nBatch int
	nCtx   int
	nSeq   int

	piece    *C.char // scratch for one token's text, C memory so cgo never copies
	pieceCap int

	cached []Token // tokens whose keys/values are in the cache, in order (sequence 0)
}

const pieceCap = 256

// ValidateThreads rejects thread counts llama.cpp would accept but that cannot help.
func ValidateThreads(n int) error {
	if n < 1 || n > runtime.NumCPU() {
		return fmt.Errorf("--threads %d: this machine has %d CPUs; use 1 to %d", n, runtime.NumCPU(), runtime.NumCPU())
	}
	return nil
}

// NewContext makes a context for m.
func (m *Model) NewContext(o ContextOptions) (*Context, error) {
	if m.m == nil {
		return nil, errClosed
	}
	if o.Ctx <= 0 {
		return nil, fmt.Errorf("--ctx %d: the context must hold at least one token", o.Ctx)
	}
	if o.Ctx > math.MaxInt32 { // llama.cpp's n_ctx is 32-bit
		return nil, fmt.Errorf("--ctx %d: at most %d tokens", o.Ctx, math.MaxInt32)
	}
	if o.Batch < 0 || o.UBatch < 0 {
		return nil, fmt.Errorf("--batch %d / --ubatch %d: batch sizes must be positive", o.Batch, o.UBatch)
	}
	if o.Threads == 0 {
		o.Threads = PhysicalCores()
	}
	if err := ValidateThreads(o.Threads); err != nil {
		return nil, err
	}
	if o.ThreadsBatch == 0 {
		o.ThreadsBatch = o.Threads
	}
	if err := ValidateThreads(o.ThreadsBatch); err != nil {
		return nil, err
	}
	if o.Batch == 0 {
		o.Batch = 2048
	}
	if o.UBatch == 0 {
		o.UBatch = 512
	}
	p := C.llama_context_default_params()
	p.n_ctx = C.uint32_t(o.Ctx)
	// llama.cpp gets the batch sizes as asked and clamps them to its padded context itself,
	// as it does for llama-bench, so both reserve the same graphs; olm's own batch never
	// holds more than the context.
	p.n_batch = C.uint32_t(min(o.Batch, math.MaxInt32))
	p.n_ubatch = C.uint32_t(min(o.UBatch, math.MaxInt32))
	o.Batch = min(o.Batch, o.Ctx)
	o.UBatch = min(o.UBatch, o.Batch)
	if o.Seqs < 0 || o.Seqs > 256 {
		return nil, fmt.Errorf("--parallel %d: use 1 to 256 sequences", o.Seqs)
	}
	p.n_seq_max = C.uint32_t(max(o.Seqs, 1))
	p.kv_unified = C.bool(o.Seqs > 1)
	p.n_threads = C.int32_t(o.Threads)
	p.n_threads_batch = C.int32_t(o.ThreadsBatch)
	p.flash_attn_type = C.enum_llama_flash_attn_type(o.FlashAttn)
	p.no_perf = false
	for _, kv := range []struct {
		name string
		dst  *C.enum_ggml_type
	}{{o.TypeK, &p.type_k}, {o.TypeV, &p.type_v}} {
		if kv.name == "" {
			continue
		}
		t, err := kvType(kv.name)
		if err != nil {
			return nil, err
		}
		*kv.dst = C.enum_ggml_type(t)
	}
	if err := checkKVFits(o.Ctx, m.kvCacheBytes(o.Ctx, p.type_k, p.type_v), machineMemory()); err != nil {
		return nil, err
	}
	capt := captureErrors()
	defer capt.done()
	c := C.llama_init_from_model(m.m, p)
	if c == nil {
		releaseNow() // the backends the failed context had made
		return nil, fmt.Errorf("new context: %s", contextFailure(capt.done(), o.Ctx))
	}
	pool := C.olm_threadpool_new(C.int(o.Threads))
	pools := []*C.struct_ggml_threadpool{pool}
	var batchPool *C.struct_ggml_threadpool // nil: the generation pool serves prompts too
	if o.ThreadsBatch != o.Threads {
		batchPool = C.olm_threadpool_new(C.int(o.ThreadsBatch))
		pools = append(pools, batchPool)
	}
	for _, p := range pools {
		if p == nil {
			freeContext(c)
			for _, p := range pools {
				if p != nil {
					C.ggml_threadpool_free(p)
				}
			}
			return nil, fmt.Errorf("new context: could not start %d threads", o.Threads)
		}
	}
	C.llama_attach_threadpool(c, pool, batchPool)
	ctx := &Context{
		model:    m,
		c:        c,
		pools:    pools,
		batch:    C.llama_batch_init(C.int32_t(o.Batch), 0, 1),
		nBatch:   o.Batch,
		nCtx:     int(C.llama_n_ctx(c)),
		nSeq:     max(o.Seqs, 1),
		piece:    (*C.char)(C.malloc(pieceCap)),
		pieceCap: pieceCap,
	}
	ctx.cached = make([]Token, 0, ctx.nCtx) // the loop appends without ever reallocating
	return ctx, nil
}

// Close frees the context. Safe to call twice.
func (c *Context) Close() {
	if c == nil || c.c == nil {
		return
	}
	C.llama_batch_free(c.batch)
	freeContext(c.c)
	for _, p := range c.pools { // after the context, which no longer uses them
		C.ggml_threadpool_free(p)
	}
	C.free(unsafe.Pointer(c.piece))
	c.c = nil
}

// Model is the model this context runs.
func (c *Context) Model() *Model { return c.model }

// Size is the context length in tokens.
func (c *Context) Size() int { return c.nCtx }

// Used is the number of tokens held in the KV cache.
func (c *Context) Used() int { return len(c.cached) }

// Cached returns the tokens in the KV cache (do not modify).
func (c *Context) Cached() []Token { return c.cached }

// Reset empties the KV cache.
func (c *Context) Reset() {
	C.llama_memory_clear(C.llama_get_memory(c.c), C.bool(true))
	c.cached = c.cached[:0]
}

// trimTo drops cached tokens from position n on.
func (c *Context) trimTo(n int) {
	if n < len(c.cached) {
		C.olm_kv_trim(c.c, C.int(n))
		c.cached = c.cached[:n]
	}
}

// decode evaluates toks after what is cached, in batches of nBatch, requesting logits for
// the last token. check is called between batches so cancellation is prompt.
func (c *Context) decode(toks []Token, check func() error) error {
	for len(toks) > 0 {
		if err := check(); err != nil {
			return err
		}
		n := min(len(toks), c.nBatch)
		if len(c.cached)+n > c.nCtx {
			return fmt.Errorf("context full: %d tokens do not fit in --ctx %d", len(c.cached)+len(toks), c.nCtx)
		}
		rc := C.olm_decode(c.c, &c.batch, (*C.llama_token)(unsafe.Pointer(&toks[0])), C.int(n), C.int(len(c.cached)), C.bool(n == len(toks)))
		if rc != 0 {
			return decodeError(rc)
		}
		c.cached = append(c.cached, toks[:n]...)
		toks = toks[n:]
	}
	return nil
}

// ErrBadLogits: the model scored the next token with NaN or infinity, which a sound model
// never does.
var ErrBadLogits = errors.New("the model computed NaN or infinite scores for the next token: its weights or hyperparameters are damaged; download it again or use another GGUF build")

func decodeError(rc C.int) error {
	switch rc {
	case 1:
		return fmt.Errorf("decode: no room in the KV cache (raise --ctx)")
	case 2:
		return fmt.Errorf("decode: aborted")
	case C.OLM_BAD_LOGITS:
		return ErrBadLogits
	}
	if msg := recentError(); msg != "" {
		return fmt.Errorf("decode: %s (code %d)", msg, rc)
	}
	return fmt.Errorf("decode: llama.cpp error %d", rc)
}

// Perf is llama.cpp's own accounting of time spent in llama_decode.
type Perf struct {
	LoadMs, PromptMs, GenMs float64
	PromptTokens, GenTokens int
}

// PromptTPS is llama.cpp's own prompt rate: tokens per second spent in llama_decode.
func (p Perf) PromptTPS() float64 { return rate(p.PromptTokens, msDuration(p.PromptMs)) }

// GenTPS is llama.cpp's own generation rate.
func (p Perf) GenTPS() float64 { return rate(p.GenTokens, msDuration(p.GenMs)) }

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Perf returns llama.cpp's perf counters since the last ResetPerf.
func (c *Context) Perf() Perf {
	d := C.llama_perf_context(c.c)
	return Perf{LoadMs: float64(d.t_load_ms), PromptMs: float64(d.t_p_eval_ms), GenMs: float64(d.t_eval_ms),
		PromptTokens: int(d.n_p_eval), GenTokens: int(d.n_eval)}
}

// ResetPerf zeroes the perf counters.
func (c *Context) ResetPerf() { C.llama_perf_context_reset(c.c) }
