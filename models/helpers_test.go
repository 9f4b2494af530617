package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/olm-dev/olm/download"
)

// tinyGGUF describes a minimal valid llama GGUF for tests.
type tinyGGUF struct {
	name         string // general.name; "tiny" if empty
	chatTemplate string
	bigElems     uint64 // an extra F32 tensor of this many elements (zeros, sparse)
}

type kv struct {
	key string
	val any // string, uint32, []string
}

// writeGGUF writes a GGUF v3 file: a real header, zero tensor data.
func writeGGUF(t *testing.T, path string, g tinyGGUF) int64 {
	t.Helper()
	const embd, vocab = 16, 8
	if g.name == "" {
		g.name = "tiny"
	}
	kvs := []kv{
		{"general.architecture", "llama"},
		{"general.name", g.name},
		{"general.file_type", uint32(0)},
		{"llama.context_length", uint32(256)},
		{"llama.embedding_length", uint32(embd)},
		{"llama.block_count", uint32(2)},
		{"llama.feed_forward_length", uint32(32)},
		{"llama.attention.head_count", uint32(4)},
		{"llama.attention.head_count_kv", uint32(2)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>", "a", "b", "c", "d", "e"}},
		{"tokenizer.ggml.bos_token_id", uint32(1)},
		{"tokenizer.ggml.eos_token_id", uint32(2)},
	}
	if g.chatTemplate != "" {
		kvs = append(kvs, kv{"tokenizer.chat_template", g.chatTemplate})
	}
	type tensor struct {
		name string
		dims []uint64
	}
	tensors := []tensor{{"token_embd.weight", []uint64{embd, vocab}}, {"output.weight", []uint64{embd, vocab}}}
	if g.bigElems > 0 {
		tensors = append(tensors, tensor{"blk.0.ffn_up.weight", []uint64{g.bigElems}})
	}

	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { le(uint64(len(s))); b.WriteString(s) }
	b.WriteString("GGUF")
	le(uint32(3))
	le(uint64(len(tensors)))
	le(uint64(len(kvs)))
	for _, p := range kvs {
		str(p.key)
		switch v := p.val.(type) {
		case string:
			le(uint32(8))
			str(v)
		case uint32:
			le(uint32(4))
			le(v)
		case []string:
			le(uint32(9))
			le(uint32(8))
			le(uint64(len(v)))
			for _, s := range v {
				str(s)
			}
		}
	}
	var off uint64
	for _, tn := range tensors {
		str(tn.name)
		le(uint32(len(tn.dims)))
		n := uint64(1)
		for _, d := range tn.dims {
			le(d)
			n *= d
		}
		le(uint32(0)) // F32
		le(off)
		off += (n*4 + 31) / 32 * 32
	}
	for b.Len()%32 != 0 {
		b.WriteByte(0)
	}
	size := int64(b.Len()) + int64(off)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil { // sparse zeros as tensor data
		t.Fatal(err)
	}
	return size
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fakeHub serves files from memory, like the HF API would describe them.
type fakeHub struct {
	commit  string
	files   map[string][]byte // repo path -> content
	sha     map[string]string // override the reported sha256 (to test damage)
	offline bool

	mu      sync.Mutex // Pull fetches files concurrently
	fetches int
	// beforeFetch, if set, runs at the start of each Fetch (e.g. to play
	// another process that finishes dst meanwhile).
	beforeFetch func(r download.Remote, dst string)
	// unsafe are extra listing entries with unsafe names.
	unsafe []string
}

func (h *fakeHub) List(ctx context.Context, repo, rev string) ([]download.RemoteFile, error) {
	if h.offline {
		return nil, errors.New("dial tcp: no route to host")
	}
	var out []download.RemoteFile
	for p, c := range h.files {
		out = append(out, download.RemoteFile{Path: p, Size: int64(len(c)), SHA256: sha256Hex(c)})
	}
	for _, p := range h.unsafe {
		out = append(out, download.RemoteFile{Path: p, Size: 1, Unsafe: download.ValidName(p)})
	}
	return out, nil
}

func (h *fakeHub) Resolve(ctx context.Context, repo, rev, file string) (download.Remote, error) {
	if h.offline {
		return download.Remote{}, errors.New("dial tcp: no route to host")
	}
	c, ok := h.files[file]
	if !ok {
		return download.Remote{}, os.ErrNotExist
	}
	sum := sha256Hex(c)
	if s, ok := h.sha[file]; ok {
		sum = s
	}
	return download.Remote{Repo: repo, Revision: rev, File: file, URL: "fake://" + repo + "/" + file,
		Size: int64(len(c)), SHA256: sum, Commit: h.commit}, nil
}

func (h *fakeHub) Fetch(ctx context.Context, r download.Remote, dst string, opts download.FetchOptions) error {
	h.mu.Lock()
	h.fetches++
	h.mu.Unlock()
	if h.beforeFetch != nil {
		h.beforeFetch(r, dst)
	}
	if opts.Result != nil {
		*opts.Result = download.FetchResult{}
	}
	c := h.files[r.File]
	if st, err := os.Stat(dst); err == nil && st.Size() == r.Size {
		return nil // complete: as download.Client, nothing fetched
	}
	if sha256Hex(c) != r.SHA256 {
		return errors.New("sha256 mismatch")
	}
	if opts.Progress != nil {
		opts.Progress(download.Progress{Phase: download.PhaseDownloading, Done: int64(len(c)), Total: int64(len(c))})
	}
	if opts.Result != nil {
		opts.Result.Downloaded = int64(len(c))
	}
	return os.WriteFile(dst, c, 0o644)
}

func (h *fakeHub) CheckSpace(dir string, need int64) error { return nil }

var _ Hub = (*fakeHub)(nil)

func readAll(t *testing.T, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
