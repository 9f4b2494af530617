package benchout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/olm-dev/olm/runner"
)

// Read parses results written as json (one array), jsonl (one object per line)
// or csv, telling them apart by the first non-blank byte. Fields are matched
// by name and unknown ones ignored, so llama-bench's own output reads too.
// Empty sample lists read as nil whatever the format.
func Read(r io.Reader) ([]runner.BenchRow, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return nil, err
	}
	var rows []runner.BenchRow
	switch first {
	case '[':
		rows, err = readJSONArray(br)
	case '{':
		rows, err = readJSONObjects(br)
	default:
		rows, err = readCSV(br)
	}
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if len(rows[i].SamplesNs) == 0 {
			rows[i].SamplesNs = nil
		}
		if len(rows[i].SamplesTs) == 0 {
			rows[i].SamplesTs = nil
		}
	}
	return rows, nil
}

// firstByte skips blanks and a UTF-8 byte order mark and peeks at what follows.
func firstByte(br *bufio.Reader) (byte, error) {
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return 0, errors.New("read results: empty input")
		}
		if err != nil {
			return 0, fmt.Errorf("read results: %w", err)
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		if err := br.UnreadByte(); err != nil {
			return 0, fmt.Errorf("read results: %w", err)
		}
		return b, nil
	}
}

func readJSONArray(r io.Reader) ([]runner.BenchRow, error) {
	dec := json.NewDecoder(r)
	var rows []runner.BenchRow
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("json: unexpected data after the array")
	}
	return rows, nil
}

// readJSONObjects reads a stream of objects: jsonl, and also objects spread
// over several lines, which a decoder handles the same way.
func readJSONObjects(r io.Reader) ([]runner.BenchRow, error) {
	dec := json.NewDecoder(r)
	var rows []runner.BenchRow
	for {
		var row runner.BenchRow
		err := dec.Decode(&row)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("jsonl row %d: %w", len(rows)+1, err)
		}
		rows = append(rows, row)
	}
}
