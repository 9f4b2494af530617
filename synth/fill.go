package synth

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Quantizer encodes nrows rows of ncols values from src (row-major,
// len(src) == nrows*ncols) as typ, returning exactly nrows rows of
// typ.RowSize(ncols) bytes. Write calls it from several goroutines at once
// and reuses src afterwards, so it must not keep src.
type Quantizer func(typ GGMLType, src []float32, nrows, ncols int) ([]byte, error)

// chunkElems bounds the values generated at once per worker (4 MiB as float32).
const chunkElems = 1 << 20

// chunk is a run of whole rows of one tensor, the unit of generation.
type chunk struct {
	tensor      int // index in plan.tensors
	index       int // chunk number within the tensor
	row0, nrows int64
	last        bool // the tensor's final chunk: padding follows
}

// chunks splits every tensor into row ranges of about chunkElems values.
func (p *plan) chunks() []chunk {
	var cs []chunk
	for i, t := range p.tensors {
		ncols, rows := t.Shape[0], t.Rows()
		per := max(1, chunkElems/ncols)
		for k, r := 0, int64(0); r < rows; k, r = k+1, r+per {
			n := min(per, rows-r)
			cs = append(cs, chunk{tensor: i, index: k, row0: r, nrows: n, last: r+n == rows})
		}
	}
	return cs
}

// values fills buf with a chunk's values. Random values depend only on the
// seed, the tensor name and the chunk number, so files are reproducible
// whatever the number of workers.
func (p *plan) values(c chunk, buf []float32) {
	t := p.tensors[c.tensor]
	switch t.fill {
	case fillOnes:
		for i := range buf {
			buf[i] = 1
		}
	case fillZeros:
		clear(buf)
	default:
		h := fnv.New64a()
		h.Write([]byte(t.Name))
		rng := rand.New(rand.NewPCG(p.spec.Seed, h.Sum64()^uint64(c.index)*0x9e3779b97f4a7c15))
		std := float64(p.spec.WeightStd)
		for i := range buf {
			buf[i] = float32(rng.NormFloat64() * std)
		}
	}
}

// encode turns a chunk's values into the tensor's on-disk bytes.
func (p *plan) encode(c chunk, vals []float32, q Quantizer) ([]byte, error) {
	t := p.tensors[c.tensor]
	ncols := int(t.Shape[0])
	le := binary.LittleEndian
	switch t.Type {
	case TypeF32:
		out := make([]byte, 4*len(vals))
		for i, v := range vals {
			le.PutUint32(out[4*i:], math.Float32bits(v))
		}
		return out, nil
	case TypeF16, TypeBF16:
		conv := f16Bits
		if t.Type == TypeBF16 {
			conv = bf16Bits
		}
		out := make([]byte, 2*len(vals))
		for i, v := range vals {
			le.PutUint16(out[2*i:], conv(v))
		}
		return out, nil
	}
	if !t.Type.IsQuantized() {
		return nil, fmt.Errorf("tensor %s: cannot produce type %s", t.Name, t.Type)
	}
	out, err := q(t.Type, vals, int(c.nrows), ncols)
	if err != nil {
		return nil, fmt.Errorf("quantize %s rows %d-%d to %s: %w", t.Name, c.row0, c.row0+c.nrows, t.Type, err)
	}
	rs, _ := t.Type.RowSize(ncols)
	if want := rs * c.nrows; int64(len(out)) != want {
		return nil, fmt.Errorf("quantize %s to %s: got %d bytes, want %d", t.Name, t.Type, len(out), want)
	}
	return out, nil
}
