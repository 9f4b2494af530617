package perplexity

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// The logits file holds a reference model's predictions so that quantizations are compared
// with it without running it again. It has the layout of llama-perplexity's
// --kl-divergence-base files (read from its source; not yet checked against a build),
// little-endian:
//
//	"_logits_"  uint32 n_ctx  int32 n_vocab  int32 n_chunk  int32 tokens[n_chunk*n_ctx]
//	then for each window, one row per scored position (n_ctx-1-n_ctx/2 rows):
//	float32 scale, float32 min_log_prob, uint16 q[n_vocab] (padded to an even count)
//
// A row stores the full distribution, not a top-k (KL needs every token's probability):
// log p[i] = min_log_prob + scale*q[i], 16 bits over the 16 nats below the most likely
// token (a step of 16/65535 = 0.00024 nats); tokens less likely than e^-16 times the top
// one are stored as q = 0 and left out of the KL sum. That is 2 bytes per vocabulary
// entry per scored token: 64 KB per token for a 32k vocabulary, 1 KB for stories260K.
const logitsMagic = "_logits_"

// logRange is how many nats below the top token a row resolves.
const logRange = 16

// LogitsHeader is the part of a logits file before the rows.
type LogitsHeader struct {
	NCtx, NVocab int
	Tokens       []int32 // NChunks()*NCtx tokens, the text as tokenized (BOS not substituted)
}

// NChunks is the number of windows the file holds.
func (h LogitsHeader) NChunks() int { return len(h.Tokens) / h.NCtx }

// rowLen is a row's length in uint16s: two float32s, then the vocabulary, padded to even.
func rowLen(nVocab int) int { return 2*((nVocab+1)/2) + 4 }

// IsLogitsFile reports whether the first bytes r gives are a logits file's magic.
func IsLogitsFile(r io.Reader) bool {
	var b [len(logitsMagic)]byte
	_, err := io.ReadFull(r, b[:])
	return err == nil && string(b[:]) == logitsMagic
}

// WriteLogitsHeader starts a logits file.
func WriteLogitsHeader(w io.Writer, h LogitsHeader) error {
	if h.NCtx <= 0 || h.NVocab <= 0 || len(h.Tokens)%h.NCtx != 0 {
		return fmt.Errorf("logits header: %d tokens are not whole windows of %d", len(h.Tokens), h.NCtx)
	}
	hdr := make([]byte, 0, 20)
	hdr = append(hdr, logitsMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(h.NCtx))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(h.NVocab))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(h.NChunks()))
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("write logits: %w", err)
	}
	if err := binary.Write(w, binary.LittleEndian, h.Tokens); err != nil {
		return fmt.Errorf("write logits: %w", err)
	}
	return nil
}

func writeRow(w io.Writer, row []uint16) error {
	if err := binary.Write(w, binary.LittleEndian, row); err != nil {
		return fmt.Errorf("write logits: %w", err)
	}
	return nil
}

// quantizeRow stores logits as 16-bit log-probabilities in row and returns the exact
// negative log-likelihood of tok.
func quantizeRow(logits []float32, row []uint16, tok int32) float64 {
	mx, _, lse := logSumExp(logits)
	mn := mx
	for _, v := range logits {
		mn = min(mn, v)
	}
	mn = max(mn, mx-logRange)
	scale := (mx - mn) / 65535
	minLogProb := mn - mx - float32(lse)
	putF32(row[0:2], scale)
	putF32(row[2:4], minLogProb)
	q := row[4:]
	for i, v := range logits {
		if scale == 0 || v <= mn {
			q[i] = 0
			continue
		}
		q[i] = uint16(min(math.Round(float64((v-mn)/scale)), 65535))
	}
	for i := len(logits); i < len(q); i++ {
		q[i] = 0
	}
	return float64(mx) + lse - float64(logits[tok])
}

// putF32 stores f in two uint16s in little-endian order, as the file has it in memory.
func putF32(dst []uint16, f float32) {
	b := math.Float32bits(f)
	dst[0], dst[1] = uint16(b), uint16(b>>16)
}

func getF32(src []uint16) float32 { return math.Float32frombits(uint32(src[0]) | uint32(src[1])<<16) }

// LogitsReader reads a logits file window by window.
type LogitsReader struct {
	Header LogitsHeader
	r      *bufio.Reader
	rows   []uint16
}

// ErrNotLogits marks a file that is not a logits file.
var ErrNotLogits = errors.New("not an olm/llama-perplexity logits file")

// ErrDamagedLogits marks a logits file whose length does not match what its header says.
var ErrDamagedLogits = errors.New("damaged logits file")

// NewLogitsReader reads the header of a logits file of size bytes (-1: unknown). A known
// size must be exactly what the header describes, checked before anything the header asks
// for is allocated, so a cut or crafted file is an error, never a huge allocation.
func NewLogitsReader(r io.Reader, size int64) (*LogitsReader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	if !IsLogitsFile(br) {
		return nil, ErrNotLogits
	}
	var hdr [3]uint32
	if err := binary.Read(br, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%w: truncated header: %v", ErrDamagedLogits, err)
	}
	nCtx, nVocab, nChunks := int(hdr[0]), int(int32(hdr[1])), int(int32(hdr[2]))
	if nCtx < 4 || nCtx > 1<<24 || nVocab <= 0 || nVocab > 1<<24 || nChunks <= 0 || nChunks > 1<<24 {
		return nil, fmt.Errorf("%w: implausible header (n_ctx %d, n_vocab %d, %d windows)", ErrDamagedLogits, nCtx, nVocab, nChunks)
	}
	want, ok := logitsFileSize(nCtx, nVocab, nChunks)
	if !ok {
		return nil, fmt.Errorf("%w: implausible header (n_ctx %d, n_vocab %d, %d windows)", ErrDamagedLogits, nCtx, nVocab, nChunks)
	}
	if size >= 0 && size != want {
		return nil, fmt.Errorf("%w: %d bytes, but its header (n_ctx %d, n_vocab %d, %d windows) describes %d; save the reference again with --save-logits",
			ErrDamagedLogits, size, nCtx, nVocab, nChunks, want)
	}
	toks := make([]int32, nCtx*nChunks)
	if err := binary.Read(br, binary.LittleEndian, toks); err != nil {
		return nil, fmt.Errorf("%w: truncated token list: %v", ErrDamagedLogits, err)
	}
	for _, t := range toks {
		if t < 0 || int(t) >= nVocab {
			return nil, fmt.Errorf("%w: token %d outside its vocabulary of %d", ErrDamagedLogits, t, nVocab)
		}
	}
	lr := &LogitsReader{Header: LogitsHeader{NCtx: nCtx, NVocab: nVocab, Tokens: toks}, r: br}
	lr.rows = make([]uint16, (nCtx-1-first(nCtx))*rowLen(nVocab))
	return lr, nil
}

// logitsFileSize is the length of a logits file with this header, and false where that
// does not fit in an int64 (no file on any disk is that long).
func logitsFileSize(nCtx, nVocab, nChunks int) (int64, bool) {
	const limit = math.MaxInt64 / 4
	tokens := int64(nCtx) * int64(nChunks) * 4 // at most 2^50
	perWindow := int64(nCtx-1-first(nCtx)) * int64(rowLen(nVocab)) * 2
	if perWindow > limit/int64(nChunks) {
		return 0, false
	}
	return int64(len(logitsMagic)) + 12 + tokens + perWindow*int64(nChunks), true
}

// next reads one window's rows.
func (lr *LogitsReader) next() ([]uint16, error) {
	if err := binary.Read(lr.r, binary.LittleEndian, lr.rows); err != nil {
		return nil, fmt.Errorf("%w: cut short: %v", ErrDamagedLogits, err)
	}
	return lr.rows, nil
}
