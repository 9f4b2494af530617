package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/olm-dev/olm/runner"
)

// BatchedRow is one batched test in llama-batched-bench's terms: PL sequences, each with a
// PP-token prompt, then TG tokens per sequence decoded together. Times are seconds; the
// speeds are aggregate tokens per second over all sequences.
type BatchedRow struct {
	PP      int     `json:"pp"`
	TG      int     `json:"tg"`
	PL      int     `json:"pl"`
	NKV     int     `json:"n_kv"` // cache cells the test fills: PL * (PP + TG)
	TPP     float64 `json:"t_pp"`
	SpeedPP float64 `json:"speed_pp"`
	TTG     float64 `json:"t_tg"`
	SpeedTG float64 `json:"speed_tg"`
	T       float64 `json:"t"`
	Speed   float64 `json:"speed"`

	// olm's own.
	ModelFilename string    `json:"model_filename"`
	NThreads      int       `json:"n_threads"`
	NBatch        int       `json:"n_batch"`
	Repetitions   int       `json:"repetitions"`
	SamplesTG     []float64 `json:"samples_speed_tg"` // speed_tg of each repetition
	BuildCommit   string    `json:"build_commit"`
}

// BatchedBench says what to run: every combination of the lists.
type BatchedBench struct {
	Prompts, Gens, Parallel []int
	Threads, Batch, Reps    int
}

// RunBatchedBench measures the engine itself as the server drives it: PL requests
// submitted at once, each with its own random prompt (so nothing comes from another's
// cache), greedy sampling included. After one warm-up, Reps timed runs; t_pp ends when the
// last sequence has its first token, t_tg when the last one has TG more (TG decode steps,
// as llama-batched-bench counts them).
func RunBatchedBench(ctx context.Context, m *runner.Model, b BatchedBench, onRow func(BatchedRow) error) error {
	if b.Reps < 1 {
		return fmt.Errorf("-r %d: at least one repetition is needed", b.Reps)
	}
	if b.Batch <= 0 {
		b.Batch = 2048
	}
	seed := uint32(42)
	for _, pl := range b.Parallel {
		if pl < 1 {
			return fmt.Errorf("--parallel %d: at least one sequence", pl)
		}
		for _, pp := range b.Prompts {
			for _, tg := range b.Gens {
				if pp < 1 || tg < 1 {
					return fmt.Errorf("--parallel needs -p and -n of at least 1 (got %d, %d)", pp, tg)
				}
				e, err := New(m, Options{Slots: pl, SlotCtx: pp + tg + 1, Batch: b.Batch, MaxQueue: -1,
					Context: runner.ContextOptions{Threads: b.Threads}})
				if err != nil {
					return err
				}
				row := BatchedRow{PP: pp, TG: tg, PL: pl, NKV: pl * (pp + tg), ModelFilename: m.Path(),
					NThreads: b.Threads, NBatch: b.Batch, Repetitions: b.Reps, BuildCommit: runner.LlamaCommit}
				for rep := range b.Reps + 1 {
					tpp, ttg, err := batchedOnce(ctx, e, m, pl, pp, tg, &seed)
					if err != nil {
						e.Close()
						return err
					}
					if rep == 0 {
						continue // warm-up
					}
					row.TPP += tpp / float64(b.Reps)
					row.TTG += ttg / float64(b.Reps)
					row.SamplesTG = append(row.SamplesTG, float64(pl*tg)/ttg)
				}
				e.Close()
				row.T = row.TPP + row.TTG
				row.SpeedPP = float64(pl*pp) / row.TPP
				row.SpeedTG = float64(pl*tg) / row.TTG
				row.Speed = float64(pl*(pp+tg)) / row.T
				if err := onRow(row); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func batchedOnce(ctx context.Context, e *Engine, m *runner.Model, pl, pp, tg int, seed *uint32) (tpp, ttg float64, err error) {
	n := m.NVocab()
	reqs := make([]Request, pl)
	for i := range reqs {
		p := make([]runner.Token, pp)
		for j := range p {
			*seed ^= *seed << 13
			*seed ^= *seed >> 17
			*seed ^= *seed << 5
			p[j] = runner.Token(*seed % uint32(n))
		}
		if m.AddsBOS() {
			p[0] = m.BOS()
		}
		s := runner.DefaultSampling()
		s.Temp = 0
		reqs[i] = Request{Prompt: p, Sampling: s, MaxTokens: tg + 1, IgnoreEOG: true}
	}
	var wg sync.WaitGroup
	res := make([]Result, pl)
	errs := make([]error, pl)
	start := time.Now()
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], errs[i] = e.Generate(ctx, reqs[i], func([]byte) error { return nil })
		}()
	}
	wg.Wait()
	var first, end time.Time
	for i, r := range res {
		if errs[i] != nil {
			return 0, 0, errs[i]
		}
		if r.Reason == runner.StopCancelled {
			return 0, 0, ctx.Err()
		}
		if r.FirstToken.After(first) {
			first = r.FirstToken
		}
		if r.Done.After(end) {
			end = r.Done
		}
	}
	return first.Sub(start).Seconds(), end.Sub(first).Seconds(), nil
}
