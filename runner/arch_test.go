// Every architecture olm covers must load, tokenize and generate through our binding:
// tiny random models of each, and the real shapes (cut to 2 layers) of each catalog family.
package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

func TestTinyModelsLoad(t *testing.T) {
	for _, name := range []string{"llama", "mixtral", "falcon", "falcon-40b", "olmo", "olmo2", "qwen2"} {
		t.Run(name, func(t *testing.T) {
			s, err := synth.Tiny(name)
			if err != nil {
				t.Fatal(err)
			}
			s.ExtraSpecial = []string{"[INST]", "[/INST]"}
			s.ChatTemplate = "{{ messages[0]['content'] }}"
			m := writeAndLoad(t, name, s, nil)
			if got := m.Arch(); got != s.Arch {
				t.Errorf("arch %q, want %q", got, s.Arch)
			}
			if m.ChatTemplate() != s.ChatTemplate {
				t.Errorf("chat template %q", m.ChatTemplate())
			}
			toks, err := m.Tokenize("Hello world 日本語", false, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Detokenize(toks, false); got != "Hello world 日本語" {
				t.Errorf("round trip %q (tokens %v)", got, toks)
			}
			// Whole-word tokens exist, so this must not fall back to bytes.
			if len(toks) != 3 {
				t.Errorf("tokens %v: want 3", toks)
			}
			sp, err := m.Tokenize("[INST]", false, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(sp) != 1 {
				t.Errorf("[INST] parsed as %v, want one control token", sp)
			}
			if slices.Contains(toks, m.EOS()) {
				t.Errorf("eos in %v", toks)
			}
			// A forward pass runs every tensor through the arch's graph.
			out, _, res := generate(t, newCtx(t, m, 64), "Hello world 日本語", runner.GenerateOptions{MaxTokens: 16, Sampler: sampler(t, 0.8, 1)})
			if res.GenTokens == 0 {
				t.Errorf("generated nothing (%s)", res.Reason)
			}
			t.Logf("%s: vocab %d, params %d, tokens %v, generated %d (%s): %q", m.Desc(), m.NVocab(), m.NParams(), toks, res.GenTokens, res.Reason, out)
		})
	}
}

// zeroQuantizer makes all-zero blocks: valid data for every ggml type (a zero
// scale), enough to check that llama.cpp accepts the shapes and types.
func zeroQuantizer(typ synth.GGMLType, _ []float32, nrows, ncols int) ([]byte, error) {
	rs, err := typ.RowSize(ncols)
	if err != nil {
		return nil, err
	}
	return make([]byte, int(rs)*nrows), nil
}

// TestRealShapesLoad loads each real-shaped family, cut to 2 layers, as
// Q4_K_M (zero weights): the real widths, head counts and vocabularies.
func TestRealShapesLoad(t *testing.T) {
	for _, fam := range synth.ShapeNames() {
		t.Run(fam, func(t *testing.T) {
			s, _ := synth.Shape(fam)
			s.NLayer, s.FileType = 2, synth.FileTypeQ4_K_M
			m := writeAndLoad(t, fam, s, zeroQuantizer)
			if m.NVocab() != s.NVocab {
				t.Errorf("vocab %d, want %d", m.NVocab(), s.NVocab)
			}
			t.Logf("%s: params %d, size %d", m.Desc(), m.NParams(), m.Size())
		})
	}
}

// TestQuantizedTinyLlama writes the full TinyLlama shape as Q4_K_M with ggml's
// quantizer and runs it.
// TestQuantizedTinyLlama writes a TinyLlama-shaped Q4_K_M model through ggml's real row
// quantizers (2 of its 22 layers, to keep the test quick) and checks it loads and generates.
func TestQuantizedTinyLlama(t *testing.T) {
	s, _ := synth.Shape("tinyllama-1.1b")
	s.FileType = synth.FileTypeQ4_K_M
	s.NLayer = 2
	path := filepath.Join(t.TempDir(), "tinyllama.gguf")
	if err := runner.WriteSynthetic(context.Background(), path, s); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := synth.FileSize(s); st.Size() != want {
		t.Errorf("file %d bytes, FileSize %d", st.Size(), want)
	}
	m, err := runner.LoadModel(context.Background(), path, runner.ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, _, res := generate(t, newCtx(t, m, 64), "Hello world", runner.GenerateOptions{MaxTokens: 8, Sampler: sampler(t, 0.8, 1)})
	if res.GenTokens == 0 {
		t.Fatalf("generated nothing (%s)", res.Reason)
	}
	t.Logf("%s: %d bytes, %.1f tokens/s", m.Desc(), st.Size(), res.GenTPS())
}
