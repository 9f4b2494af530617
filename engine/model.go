package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/chat/tools"
	"github.com/olm-dev/olm/runner"
)

// Model is a loaded model ready to answer: weights, an engine over them and the chat
// template chosen for it.
type Model struct {
	Name     string // as the user named it
	LM       *runner.Model
	Engine   *Engine
	Template template.Template
	Why      template.Reason // why Template was chosen, for /show

	toolOnce sync.Once
	toolFam  tools.Family
}

// Loader loads a model by name. The REPL calls it for /model; tests switch between tiny
// models with it. release, when not nil, is called once the name is resolved (and pulled),
// just before the load: /model frees the current model there, so the new one gets all the
// RAM and GPU memory (llama.cpp's fit sizes the offload to what is free).
type Loader func(ctx context.Context, name string, release func()) (*Model, error)

// OpenOptions say how to load one GGUF file.
type OpenOptions struct {
	Name            string
	Path            string
	CatalogTemplate string // the catalog's template name, "" if none
	Override        string // --template NAME|FILE
	Model           runner.ModelOptions
	// Context sizes each slot's context once the model is loaded (its training length is
	// known only then): Ctx is per slot, Batch bounds a decode.
	Context  func(*runner.Model) runner.ContextOptions
	Slots    int  // conversations decoded together (default 1)
	MaxQueue int  // requests that may wait for a slot (0: DefaultMaxQueue)
	Raw      bool // no chat template: raw completion (olm run)
}

// Open loads the model, starts its engine and selects its chat template.
func Open(ctx context.Context, o OpenOptions) (*Model, error) {
	lm, err := runner.LoadModel(ctx, o.Path, o.Model)
	if err != nil {
		return nil, err
	}
	m := &Model{Name: o.Name, LM: lm}
	if m.Name == "" {
		m.Name = o.Path
	}
	co := runner.ContextOptions{Ctx: DefaultContext(lm.TrainCtx())}
	if o.Context != nil {
		co = o.Context(lm)
	}
	if m.Engine, err = New(lm, Options{Slots: o.Slots, SlotCtx: co.Ctx, Batch: co.Batch, MaxQueue: o.MaxQueue, Context: co}); err != nil {
		m.Close()
		return nil, err
	}
	if o.Raw {
		return m, nil
	}
	m.Template, m.Why, err = template.Select(template.Options{
		Override:        o.Override,
		GGUFTemplate:    lm.ChatTemplate(),
		CatalogTemplate: o.CatalogTemplate,
		Architecture:    lm.Arch(),
		Tokens:          tokenTexts(lm),
	})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("chat template for %s: %w", m.Name, err)
	}
	return m, nil
}

func tokenTexts(lm *runner.Model) template.Tokens {
	var t template.Tokens
	if b := lm.BOS(); b >= 0 {
		t.BOS = lm.TokenText(b)
	}
	if e := lm.EOS(); e >= 0 {
		t.EOS = lm.TokenText(e)
	}
	return t
}

// Close stops the engine, frees the model and hands the memory back to the OS, so
// switching models in a long session does not look like a leak.
func (m *Model) Close() {
	if m == nil {
		return
	}
	if m.Engine != nil {
		m.Engine.Close()
	}
	if m.LM != nil {
		m.LM.Close()
	}
	m.Engine, m.LM = nil, nil
	runner.ReleaseMemory()
}

// DefaultContext is the context olm assumes per conversation without --ctx: the trained
// context, at most 4096 tokens, so a 32k-context model does not reserve gigabytes of KV
// cache. run, chat, show and serve share it.
func DefaultContext(trained int) int {
	const maxDefault = 4096
	if trained <= 0 || trained > maxDefault {
		return maxDefault
	}
	return trained
}
