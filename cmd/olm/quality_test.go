package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/olm-dev/olm/internal/realmodel"
)

const storyFile = "../../perplexity/testdata/story.txt"

func TestTokenizeStories(t *testing.T) {
	model := realmodel.Stories260K(t)
	out, errOut, code := runOLM(t, "", "tokenize", model, "Once upon a time", "--json")
	want := `[{"id":1,"piece":"<s>"},{"id":403,"piece":" Once"},{"id":407,"piece":" upon"},{"id":261,"piece":" a"},{"id":378,"piece":" time"}]` + "\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
	}
	out, _, _ = runOLM(t, "", "tokenize", model, "Once upon")
	if out != "     1 -> \"<s>\"\n   403 -> \" Once\"\n   407 -> \" upon\"\n" {
		t.Fatalf("plain output %q", out)
	}
	// Typed "</s>" is the EOS control token only when special text is parsed.
	out, _, _ = runOLM(t, "</s>", "tokenize", model, "--ids", "--no-bos")
	if out != "[2]\n" {
		t.Fatalf("</s> parsed: %q, want [2]", out)
	}
	out, _, _ = runOLM(t, "</s>", "tokenize", model, "--ids", "--no-bos", "--no-special")
	var ids []int
	if err := json.Unmarshal([]byte(out), &ids); err != nil || len(ids) < 2 || strings.Contains(out, "[2]") {
		t.Fatalf("</s> as text: %q", out)
	}
	for _, id := range ids {
		if id == 1 || id == 2 {
			t.Fatalf("control token %d from user text: %v", id, ids)
		}
	}
}

func TestPerplexityStories(t *testing.T) {
	model := realmodel.Stories260K(t)
	dir := t.TempDir()
	out, errOut, code := runOLM(t, "", "perplexity", model, storyFile, "--ctx", "128", "--json", "-t", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r map[string]float64
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if r["ppl"] < 1.5 || r["ppl"] > 9 || r["ppl_stderr"] <= 0 || r["n_ctx"] != 128 || r["n_tokens"] != 7*63 {
		t.Fatalf("result %v (measured ppl 4.18 over 441 tokens)", r)
	}
	// The reference once to a file, then the quant against the file and against the model
	// directly: the same numbers.
	logits := filepath.Join(dir, "base.logits")
	if _, errOut, code := runOLM(t, "", "perplexity", model, storyFile, "--ctx", "128", "--save-logits", logits, "-t", "1"); code != 0 {
		t.Fatal(errOut)
	}
	q6 := filepath.Join(dir, "q6.gguf")
	if _, errOut, code := runOLM(t, "", "quantize", model, q6, "Q6_K", "-t", "1"); code != 0 || !strings.Contains(errOut, "32 q8_0") {
		t.Fatalf("quantize: exit %d, %s", code, errOut)
	}
	fromFile, errOut, code := runOLM(t, "", "perplexity", q6, "--kl-base", logits, "--json", "-t", "1")
	if code != 0 {
		t.Fatal(errOut)
	}
	fromModel, errOut, code := runOLM(t, "", "perplexity", q6, storyFile, "--ctx", "128", "--kl-base", model, "--json", "-t", "1")
	if code != 0 {
		t.Fatal(errOut)
	}
	if fromFile != fromModel {
		t.Fatalf("against the file:\n%s\nagainst the model:\n%s", fromFile, fromModel)
	}
	var kl map[string]float64
	json.Unmarshal([]byte(fromFile), &kl)
	for _, k := range []string{"ppl", "ppl_stderr", "n_tokens", "n_ctx", "kl_mean", "kl_median", "kl_p99", "top1_agreement", "ppl_ratio"} {
		if _, ok := kl[k]; !ok {
			t.Errorf("--json lacks %s: %s", k, fromFile)
		}
	}
	if kl["top1_agreement"] < 0.95 || kl["kl_mean"] <= 0 || kl["kl_mean"] > 0.005 {
		t.Errorf("Q6_K against F32: %v", kl)
	}
	// The text, when given with a logits file, must be the one it was scored on.
	other := filepath.Join(dir, "other.txt")
	os.WriteFile(other, []byte(strings.Repeat("The cat sat on the mat. ", 200)), 0o644)
	_, errOut, code = runOLM(t, "", "perplexity", q6, other, "--kl-base", logits)
	if code != 1 || !strings.Contains(errOut, "does not tokenize to the tokens the reference was scored on") {
		t.Fatalf("another text: exit %d, %q", code, errOut)
	}
	_, errOut, _ = runOLM(t, "", "perplexity", q6, "--kl-base", logits, "--ctx", "64")
	if !strings.Contains(errOut, "windows of 128 tokens") {
		t.Fatalf("--ctx against the file's: %q", errOut)
	}
	// A cut logits file is refused in one line that names it, before anything is scored.
	cut := filepath.Join(dir, "cut.logits")
	b, _ := os.ReadFile(logits)
	os.WriteFile(cut, b[:len(b)-100], 0o644)
	_, errOut, code = runOLM(t, "", "perplexity", q6, "--kl-base", cut)
	if code != 1 || !strings.Contains(errOut, "--kl-base "+cut+": damaged logits file") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("a cut logits file: exit %d, %q", code, errOut)
	}
	// Windows longer than the model was trained on (2048) are scored, with a warning.
	long := filepath.Join(dir, "long.txt")
	os.WriteFile(long, []byte(strings.Repeat("The cat sat on the mat. ", 1200)), 0o644)
	_, errOut, code = runOLM(t, "", "perplexity", model, long, "--ctx", "4096", "-t", "1")
	if code != 0 || !strings.Contains(errOut, "longer than the 2048 stories260K.gguf was trained on") {
		t.Fatalf("--ctx 4096: exit %d, %q", code, errOut)
	}
	// Quantization types stories260K's shapes cannot hold are refused in one line.
	_, errOut, code = runOLM(t, "", "quantize", model, filepath.Join(dir, "q8.gguf"), "Q8_0")
	if code != 1 || !strings.Contains(errOut, "blk.0.ffn_down.weight has rows of 172 values") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("Q8_0 of stories260K: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "q8.gguf")); err == nil {
		t.Fatal("a failed quantization left its output")
	}
}

// Bad input to the three commands gets one line that names the problem; no shared model needed.
func TestQualityCommandsBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "t.txt")
	os.WriteFile(text, []byte("Hello world, this is a short text."), 0o644)
	exists := filepath.Join(dir, "exists.gguf")
	os.WriteFile(exists, []byte("x"), 0o644)
	q8 := filepath.Join(dir, "q8.gguf")
	if _, errOut, code := runOLM(t, "", "quantize", tinyModel, q8, "q8_0", "-t", "1"); code != 0 || !strings.Contains(errOut, "wrote "+q8) {
		t.Fatalf("quantize tiny model: exit %d, %q", code, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"perplexity", tinyModel, text}, "needs at least 1024 (two windows)"},
		{[]string{"perplexity", tinyModel, text, "--ctx", "2"}, "--ctx 2"},
		{[]string{"perplexity", tinyModel, filepath.Join(dir, "none.txt")}, "no such file"},
		{[]string{"perplexity", tinyModel, text, "--kl-base", text}, "not a GGUF file"},
		{[]string{"perplexity", tinyModel}, "empty text"},
		{[]string{"perplexity", tinyModel, text, "--ctx", "4", "--save-logits", exists}, "exists and is not a logits file"},
		{[]string{"perplexity", tinyModel, text, "--ctx", "4", "--save-logits", dir}, "is a directory"},
		{[]string{"perplexity", tinyModel, text, "--ctx", "4", "--save-logits", filepath.Join(dir, "nodir", "x.logits")}, "the folder " + filepath.Join(dir, "nodir") + " does not exist"},
		{[]string{"quantize", tinyModel, filepath.Join(dir, "o.gguf"), "Q9_X"}, "unknown quantization type \"Q9_X\"; use one of F32, F16"},
		{[]string{"quantize", tinyModel, filepath.Join(dir, "o.gguf"), "IQ1_S"}, "needs an importance matrix"},
		{[]string{"quantize", tinyModel, exists, "Q4_0"}, "exists: pass --force"},
		{[]string{"quantize", tinyModel, tinyModel, "Q4_0", "--force"}, "OUT is the input"},
		{[]string{"quantize", q8, filepath.Join(dir, "o.gguf"), "Q4_0"}, "--allow-requantize"},
		{[]string{"quantize", q8, filepath.Join(dir, "o.gguf"), "F16"}, "below F16"},
		{[]string{"quantize", tinyModel, "o.gguf"}, "quantize needs IN OUT TYPE"},
		{[]string{"tokenize"}, "tokenize needs MODEL [TEXT]"},
		{[]string{"tokenize", text, "hi"}, "not a GGUF file"},
	} {
		out, errOut, code := runOLM(t, "", c.args...)
		if code != 1 || out != "" || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("olm %v: exit %d, stdout %q, stderr %q; want one line with %q", c.args, code, out, errOut, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o.gguf")); err == nil {
		t.Error("a refused quantization wrote its output")
	}
	if b, _ := os.ReadFile(exists); string(b) != "x" {
		t.Errorf("a refused command changed %s: %q", exists, b)
	}
	out, _, code := runOLM(t, "", "quantize", "--list-types")
	if code != 0 || !strings.Contains(out, "Q4_K_M") || !strings.Contains(out, "IQ2_XS") {
		t.Errorf("--list-types: %q", out)
	}
}

// On a terminal, perplexity and quantize show their progress on stderr and clear it;
// stdout keeps only the result.
func TestQualityProgressOnTerminal(t *testing.T) {
	var out, errb strings.Builder
	ios := &ioStreams{In: strings.NewReader(strings.Repeat("the cat and the dog is a test of the model. ", 40)), Out: &out, Err: &errb, ErrTTY: true}
	if code := execute(t.Context(), ios, []string{"perplexity", tinyModel, "--ctx", "32", "--json", "-t", "1"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r map[string]float64
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil || r["n_ctx"] != 32 || r["n_chunks"] < 2 {
		t.Fatalf("stdout %q: %v", out.String(), err)
	}
	last := "window " + strconv.Itoa(int(r["n_chunks"])) + "/" + strconv.Itoa(int(r["n_chunks"])) + ": perplexity"
	if !strings.Contains(errb.String(), "window 1/") || !strings.Contains(errb.String(), last) || !strings.HasSuffix(errb.String(), "\r\033[K") {
		t.Fatalf("progress %q lacks %q or is not cleared", errb.String(), last)
	}
	out.Reset()
	errb.Reset()
	q := filepath.Join(t.TempDir(), "q.gguf")
	if code := execute(t.Context(), ios, []string{"quantize", tinyModel, q, "Q8_0", "-t", "1"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "quantizing to Q8_0: tensor 1/") || !strings.Contains(errb.String(), "wrote "+q) || out.Len() != 0 {
		t.Fatalf("stderr %q, stdout %q", errb.String(), out.String())
	}
}
