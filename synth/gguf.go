package synth

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// Alignment is the data alignment Write uses and declares (general.alignment);
// it is also GGUF's default.
const Alignment = 32

// GGUF metadata value types (gguf.h's enum gguf_type).
const (
	ggufUint32  uint32 = 4
	ggufInt32   uint32 = 5
	ggufFloat32 uint32 = 6
	ggufBool    uint32 = 7
	ggufString  uint32 = 8
	ggufArray   uint32 = 9
)

// kv is one metadata entry; val is uint32, int32, float32, bool, string,
// []string, []float32 or []int32.
type kv struct {
	key string
	val any
}

// encodeHeader returns the GGUF v3 header (magic, counts, metadata, tensor
// infos), padded to Alignment so the data section can follow directly.
func encodeHeader(meta []kv, tensors []TensorInfo) ([]byte, error) {
	var b bytes.Buffer
	le := binary.LittleEndian
	u32 := func(v uint32) { b.Write(le.AppendUint32(nil, v)) }
	u64 := func(v uint64) { b.Write(le.AppendUint64(nil, v)) }
	str := func(s string) { u64(uint64(len(s))); b.WriteString(s) }

	b.WriteString("GGUF")
	u32(3)
	u64(uint64(len(tensors)))
	u64(uint64(len(meta)))
	for _, e := range meta {
		str(e.key)
		switch v := e.val.(type) {
		case uint32:
			u32(ggufUint32)
			u32(v)
		case int32:
			u32(ggufInt32)
			u32(uint32(v))
		case float32:
			u32(ggufFloat32)
			u32(math.Float32bits(v))
		case bool:
			u32(ggufBool)
			b.WriteByte(boolByte(v))
		case string:
			u32(ggufString)
			str(v)
		case []string:
			u32(ggufArray)
			u32(ggufString)
			u64(uint64(len(v)))
			for _, s := range v {
				str(s)
			}
		case []float32:
			u32(ggufArray)
			u32(ggufFloat32)
			u64(uint64(len(v)))
			for _, f := range v {
				u32(math.Float32bits(f))
			}
		case []int32:
			u32(ggufArray)
			u32(ggufInt32)
			u64(uint64(len(v)))
			for _, i := range v {
				u32(uint32(i))
			}
		default:
			return nil, fmt.Errorf("metadata %s: unsupported value type %T", e.key, e.val)
		}
	}
	for _, t := range tensors {
		if len(t.Name) >= 64 { // GGML_MAX_NAME
			return nil, fmt.Errorf("tensor name %q is too long", t.Name)
		}
		str(t.Name)
		u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			u64(uint64(d))
		}
		u32(uint32(t.Type))
		u64(uint64(t.Offset))
	}
	b.Write(make([]byte, pad(int64(b.Len()))-int64(b.Len())))
	return b.Bytes(), nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
