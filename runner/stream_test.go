package runner

import (
	"strings"
	"testing"
)

// feed pushes pieces through a TextStream and returns the emitted chunks and whether a stop
// string ended it.
func feed(t *testing.T, stops []string, pieces ...string) (chunks []string, stopped bool) {
	t.Helper()
	s := NewTextStream(stops, func(b []byte) error { chunks = append(chunks, string(b)); return nil })
	for _, p := range pieces {
		st, err := s.Push([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		if st {
			return chunks, true
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	return chunks, false
}

func TestStreamStopStringSplitAcrossPieces(t *testing.T) {
	chunks, stopped := feed(t, []string{"</answer>"}, "The result", " is 4</an", "sw", "er> and more")
	if !stopped {
		t.Fatal("stop string spanning three pieces was not detected")
	}
	if got := strings.Join(chunks, ""); got != "The result is 4" {
		t.Fatalf("emitted %q, want exactly the text before the stop string", got)
	}
	for _, c := range chunks {
		if strings.Contains(c, "<") {
			t.Fatalf("a piece of the stop string was emitted before it was decided: %q", chunks)
		}
	}
}

func TestStreamFalseStopPrefixIsReleased(t *testing.T) {
	chunks, stopped := feed(t, []string{"\nUser:"}, "line one\nUs", "ually fine")
	if stopped {
		t.Fatal("stopped on a mere prefix of the stop string")
	}
	if got := strings.Join(chunks, ""); got != "line one\nUsually fine" {
		t.Fatalf("emitted %q", got)
	}
}

func TestStreamEarliestOfSeveralStops(t *testing.T) {
	chunks, _ := feed(t, []string{"B", "AB"}, "xxAB")
	if got := strings.Join(chunks, ""); got != "xx" {
		t.Fatalf("emitted %q, want text before the earliest stop", got)
	}
}

func TestStreamMultiByteCharacterNeverSplit(t *testing.T) {
	// "日" is E6 97 A5 and "é" is C3 A9, each arriving one byte per token as with
	// SentencePiece byte fallback.
	chunks, _ := feed(t, nil, "a", "\xe6", "\x97", "\xa5", "\xc3", "\xa9", "b")
	if got := strings.Join(chunks, ""); got != "a日éb" {
		t.Fatalf("emitted %q", got)
	}
	for _, c := range chunks {
		if !utf8Valid(c) {
			t.Fatalf("chunk %q is not valid UTF-8; chunks %q", c, chunks)
		}
	}
}

func TestStreamInvalidBytesDoNotStall(t *testing.T) {
	chunks, _ := feed(t, nil, "\xff", "x")
	if len(chunks) != 2 || chunks[0] != "\xff" {
		t.Fatalf("an invalid byte was held back: %q", chunks)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
