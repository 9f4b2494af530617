package runner

import (
	"bytes"
	"unicode/utf8"
)

// TextStream turns token pieces into text that is safe to show: it never emits part of a
// UTF-8 character, and holds back any tail that could be the start of a stop string until
// the next pieces decide it. It reuses one buffer, so a token costs no allocation.
type TextStream struct {
	pending []byte
	stops   [][]byte
	maxStop int
	emit    func([]byte) error
}

func NewTextStream(stops []string, emit func([]byte) error) *TextStream {
	s := &TextStream{pending: make([]byte, 0, 256), emit: emit}
	for _, st := range stops {
		if st != "" {
			s.stops = append(s.stops, []byte(st))
			s.maxStop = max(s.maxStop, len(st))
		}
	}
	return s
}

// Push adds a piece. It reports true when a stop string completed; the stop string and
// anything after it are dropped.
func (s *TextStream) Push(piece []byte) (bool, error) {
	from := max(0, len(s.pending)-s.maxStop+1) // an earlier match would have been found already
	s.pending = append(s.pending, piece...)
	if at := s.firstStop(from); at >= 0 {
		err := s.send(s.pending[:at])
		s.pending = s.pending[:0]
		return true, err
	}
	safe := min(len(s.pending)-s.stopPrefixLen(), incompleteUTF8Start(s.pending))
	if safe <= 0 {
		return false, nil
	}
	err := s.send(s.pending[:safe])
	n := copy(s.pending, s.pending[safe:])
	s.pending = s.pending[:n]
	return false, err
}

// Flush emits whatever is held back (generation ended without a stop string).
func (s *TextStream) Flush() error {
	err := s.send(s.pending)
	s.pending = s.pending[:0]
	return err
}

func (s *TextStream) send(b []byte) error {
	if len(b) == 0 || s.emit == nil {
		return nil
	}
	return s.emit(b)
}

// firstStop is the earliest index at or after from where a stop string starts, or -1.
func (s *TextStream) firstStop(from int) int {
	best := -1
	for _, st := range s.stops {
		if i := bytes.Index(s.pending[from:], st); i >= 0 && (best < 0 || from+i < best) {
			best = from + i
		}
	}
	return best
}

// stopPrefixLen is the length of the longest tail of pending that begins some stop string.
func (s *TextStream) stopPrefixLen() int {
	longest := 0
	for _, st := range s.stops {
		for n := min(len(st)-1, len(s.pending)); n > longest; n-- {
			if bytes.HasSuffix(s.pending, st[:n]) {
				longest = n
				break
			}
		}
	}
	return longest
}

// incompleteUTF8Start is where a trailing, not yet complete UTF-8 character begins, or
// len(b) when b ends on a character boundary. Invalid bytes count as complete: holding them
// back would stall the stream forever.
func incompleteUTF8Start(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}
