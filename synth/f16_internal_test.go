package synth

import (
	"math"
	"testing"
)

func TestF16Bits(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {65504, 0x7bff}, {70000, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00}, {5.9604645e-8, 0x0001}, {1e-9, 0},
		{6.1035156e-5, 0x0400},        // smallest normal
		{1.00048828125, 0x3c00},       // halfway, rounds to even (down)
		{1.00146484375, 0x3c02},       // halfway, rounds to even (up)
		{0.333333333, 0x3555},         // 1/3
		{-0.0200042724609375, 0xa51f}, // a typical weight
	} {
		if got := f16Bits(c.in); got != c.want {
			t.Errorf("f16Bits(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if got := f16Bits(float32(math.NaN())); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("NaN became %#04x", got)
	}
}

func TestBF16Bits(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80}, {-2, 0xc000}, {math.Float32frombits(0x3f808000), 0x3f80}, {math.Float32frombits(0x3f818000), 0x3f82},
		{math.Float32frombits(0x3f808001), 0x3f81},
	} {
		if got := bf16Bits(c.in); got != c.want {
			t.Errorf("bf16Bits(%#08x) = %#04x, want %#04x", math.Float32bits(c.in), got, c.want)
		}
	}
}

func TestQuantMixOrderMatchesLlamaCpp(t *testing.T) {
	// weights_map orders by block number, then name: blk.2 before blk.10.
	ts := []TensorInfo{{Name: "blk.10.attn_v.weight"}, {Name: "output.weight"}, {Name: "blk.2.attn_v.weight"}, {Name: "blk.2.attn_k.weight"}, {Name: "token_embd.weight"}}
	sortTensors(ts)
	var got []string
	for _, t := range ts {
		got = append(got, t.Name)
	}
	want := []string{"output.weight", "token_embd.weight", "blk.2.attn_k.weight", "blk.2.attn_v.weight", "blk.10.attn_v.weight"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}
