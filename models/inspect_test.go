package models

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/olm-dev/olm/gguf"
)

func TestInspect(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tiny.gguf")
	size := writeGGUF(t, p, tinyGGUF{chatTemplate: "{% for m in messages %}{{ m.content }}{% endfor %}"})
	info, err := Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.Arch != "llama" || info.Name != "tiny" || info.Params != 2*16*8 || info.FileType != "F32" ||
		info.ContextLength != 256 || info.NLayer != 2 || info.NHeadKV != 2 || info.HeadDim != 4 || info.FileSize != size {
		t.Errorf("info %+v", info)
	}
	if !info.HasChatTemplate() || !strings.Contains(info.ChatTemplate, "m.content") {
		t.Errorf("template %q", info.ChatTemplate)
	}
	if info.BOS != (Token{1, "<s>"}) || info.EOS != (Token{2, "</s>"}) {
		t.Errorf("bos %+v eos %+v", info.BOS, info.EOS)
	}
	mem := info.Memory(100)
	if want := int64(2 * 2 * 100 * 2 * 4 * 2); mem.KVCache != want || mem.Compute <= 0 || mem.Total != mem.Weights+want+mem.Compute || mem.Weights != info.WeightsSize {
		t.Errorf("memory %+v", mem)
	}
	if info.Memory(0).Context != 256 {
		t.Error("ctx 0 should mean the trained context")
	}

	bad := filepath.Join(t.TempDir(), "x.gguf")
	os.WriteFile(bad, []byte("<html>"), 0o644)
	if _, err := Inspect(bad); !errors.Is(err, gguf.ErrNotGGUF) {
		t.Errorf("non-GGUF: %v", err)
	}
}

func TestMemoryEstimateLlama2(t *testing.T) {
	// 7B shapes from the catalog: 2*32*4096*32*128*2 bytes = 2 GiB of KV at 4096 tokens.
	info := Info{NLayer: 32, NHead: 32, NHeadKV: 32, HeadDim: 128, NEmbd: 4096, NFF: 11008, NVocab: 32000, WeightsSize: 4 << 30}
	if m := info.Memory(4096); m.KVCache != 2<<30 || m.Total != 6<<30+m.Compute {
		t.Errorf("memory %+v", m)
	}
}

// The compute buffer estimate against what llama.cpp ec98e2002 reported ("CPU compute
// buffer size", olm run --verbose, flash attention off) for synthetic models of these shapes.
func TestComputeEstimateMatchesLlamaCpp(t *testing.T) {
	tiny := Info{NHead: 32, NEmbd: 2048, NFF: 5632, NVocab: 32000}
	mistral := Info{NHead: 32, NEmbd: 4096, NFF: 14336, NVocab: 32000}
	for _, c := range []struct {
		name    string
		info    Info
		ctx     int
		llamaMB float64
	}{{"tinyllama", tiny, 512, 66.50}, {"tinyllama", tiny, 4096, 281.01}, {"mistral", mistral, 512, 113.01}, {"mistral", mistral, 4096, 300.01}} {
		got := float64(c.info.Memory(c.ctx).Compute) / (1 << 20)
		if r := got / c.llamaMB; r < 0.85 || r > 1.05 {
			t.Errorf("%s at %d tokens: %.1f MiB, llama.cpp %.1f MiB (%.2fx)", c.name, c.ctx, got, c.llamaMB, r)
		}
	}
}

// countingServer mimics HF: the hub redirects to a CDN on another host,
// which serves Range requests and counts the bytes it sends. served closes
// the CDN first: Close waits for its handlers, so the count is final (a
// handler's last Write can return after the client has read its bytes).
func countingServer(t *testing.T, path string, token string) (hub *httptest.Server, served func() int64) {
	t.Helper()
	var count atomic.Int64
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Error("token sent to the CDN")
		}
		f, err := os.Open(filepath.Join(filepath.Dir(path), filepath.Base(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, _ := f.Stat()
		http.ServeContent(countWriter{w, &count}, r, "", st.ModTime(), f)
	}))
	t.Cleanup(cdn.Close)
	hub = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, cdn.URL+"/"+filepath.Base(r.URL.Path), http.StatusFound)
	}))
	t.Cleanup(hub.Close)
	return hub, func() int64 { cdn.Close(); return count.Load() }
}

type countWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func TestInspectRemoteReadsOnlyTheHeader(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big.gguf")
	size := writeGGUF(t, p, tinyGGUF{chatTemplate: "{{ x }}", bigElems: 16 << 20}) // 64 MiB of tensor data
	srv, served := countingServer(t, p, "")

	info, err := InspectRemote(context.Background(), srv.URL+"/o/r/resolve/main/big.gguf", RemoteOptions{Client: srv.Client(), TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	local, err := Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.FileSize != size || info.Params != local.Params || info.ChatTemplate != "{{ x }}" || info.EOS.Text != "</s>" || info.FileType != local.FileType {
		t.Errorf("remote %+v\nlocal %+v", info, local)
	}
	// The client may stop reading mid-response, so the server can have sent
	// more than was fetched, never less.
	if n := served(); n > 1<<20 || n < info.Fetched {
		t.Errorf("served %d bytes (fetched %d) of %d", n, info.Fetched, size)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("staging files left: %v", ents)
	}
}

func TestInspectRemoteSplitAndAuth(t *testing.T) {
	dir := t.TempDir()
	for i := 1; i <= 2; i++ {
		writeGGUF(t, filepath.Join(dir, fmt.Sprintf("m-0000%d-of-00002.gguf", i)), tinyGGUF{})
	}
	srv, _ := countingServer(t, filepath.Join(dir, "x"), "secret")
	u := srv.URL + "/o/r/resolve/main/m-00001-of-00002.gguf"
	if _, err := InspectRemote(context.Background(), u, RemoteOptions{Client: srv.Client()}); err == nil || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Fatalf("no token: %v", err)
	}
	info, err := InspectRemote(context.Background(), u, RemoteOptions{Client: srv.Client(), Token: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Params != 2*2*16*8 {
		t.Errorf("split params %d: parts not combined", info.Params)
	}
}

func TestInspectRemoteRejectsNonGGUFAndNoRange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "norange.gguf") {
			w.Write([]byte("GGUF...whole file"))
			return
		}
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader("<html>not found</html>"))
	}))
	defer srv.Close()
	if _, err := InspectRemote(context.Background(), srv.URL+"/x.gguf", RemoteOptions{}); !errors.Is(err, gguf.ErrNotGGUF) {
		t.Errorf("html: %v", err)
	}
	if _, err := InspectRemote(context.Background(), srv.URL+"/norange.gguf", RemoteOptions{}); err == nil || !strings.Contains(err.Error(), "Range") {
		t.Errorf("no range: %v", err)
	}
}

func TestCheckFit(t *testing.T) {
	mi := filepath.Join(t.TempDir(), "meminfo")
	os.WriteFile(mi, []byte("MemTotal:        8000000 kB\nMemFree:  100 kB\n"), 0o644)
	ram, err := TotalRAM(mi)
	if err != nil || ram != 8000000*1024 {
		t.Fatalf("ram %d %v", ram, err)
	}
	small := Info{NLayer: 32, NHeadKV: 8, HeadDim: 128, WeightsSize: 4 << 30}
	if f, err := CheckFit(small, 4096, mi); err != nil || !f.Fits || !strings.Contains(f.Reason, "of 7.6 GiB RAM") {
		t.Errorf("small: %+v %v", f, err)
	}
	big := Info{NLayer: 80, NHeadKV: 8, HeadDim: 128, WeightsSize: 38 << 30}
	if f, _ := CheckFit(big, 4096, mi); f.Fits || !strings.Contains(f.Reason, "smaller quant") {
		t.Errorf("big: %+v", f)
	}
	os.WriteFile(mi, []byte("nothing\n"), 0o644)
	if _, err := TotalRAM(mi); err == nil {
		t.Error("no MemTotal accepted")
	}
}

func TestGPULayersThatFit(t *testing.T) {
	// A 7B: 32 repeating layers + output, 4 GiB of weights, 512 MiB of KV, 300 MiB compute.
	info := Info{NLayer: 32}
	need := Memory{Weights: 4 << 30, KVCache: 512 << 20, Compute: 300 << 20}
	for _, c := range []struct {
		free int64
		want int
	}{
		{140 << 30, 33},                      // an H200: everything
		{(1 << 30) + (300 << 20), 0},         // only the margin and the compute buffer
		{(1 << 30) + (300 << 20) + 1<<30, 7}, // 1 GiB for layers of 4.5 GiB/33 each
		{0, 0},
	} {
		if got := GPULayersThatFit(info, need, c.free); got != c.want {
			t.Errorf("free %d MiB: %d layers, want %d", c.free>>20, got, c.want)
		}
	}
}
