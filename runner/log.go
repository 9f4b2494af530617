package runner

// #include "llama.h"
import "C"

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"unsafe"
)

// llama.cpp logs through one process-wide callback, so this is the one piece of package state:
// the logger it writes to, and the calls waiting to hear why they failed (llama.cpp returns
// NULL on a failed load and only says why in the log).
var logState struct {
	sync.Mutex
	logger   *slog.Logger
	partial  strings.Builder
	captures map[*errorCapture]struct{}   // calls in progress that want llama.cpp's first error
	recent   string                       // the latest error line, for decode failures
	tap      func(level int, line string) // sees every line while set (the quantizer's progress)
}

// errorCapture collects the first error llama.cpp logs during one call. Calls run
// concurrently in the server (one model loads while another decodes), so each call has its
// own capture instead of taking a shared "last error" that another call may steal. Errors
// of two calls failing at the very same moment can show in both; none is lost.
type errorCapture struct{ first string }

// captureErrors starts a capture; done ends it and returns the first error line seen.
func captureErrors() *errorCapture {
	c := &errorCapture{}
	logState.Lock()
	if logState.captures == nil {
		logState.captures = map[*errorCapture]struct{}{}
	}
	logState.captures[c] = struct{}{}
	logState.Unlock()
	return c
}

func (c *errorCapture) done() string {
	logState.Lock()
	defer logState.Unlock()
	delete(logState.captures, c)
	return c.first
}

// tapLog shows every llama.cpp log line to f until the returned function is called.
func tapLog(f func(level int, line string)) (untap func()) {
	logState.Lock()
	logState.tap = f
	logState.Unlock()
	return func() {
		logState.Lock()
		logState.tap = nil
		logState.Unlock()
	}
}

// SetLogger routes llama.cpp's log to l (nil: discard). The CLI passes a logger that is
// silent unless --verbose.
func SetLogger(l *slog.Logger) {
	logState.Lock()
	logState.logger = l
	logState.Unlock()
}

// recentError is the latest error line llama.cpp logged: what a failed decode says, where
// a capture per token would cost the token loop.
func recentError() string {
	logState.Lock()
	defer logState.Unlock()
	return logState.recent
}

// takePartialLog returns and clears text llama.cpp logged without ending the line.
func takePartialLog() string {
	logState.Lock()
	defer logState.Unlock()
	s := strings.TrimSpace(logState.partial.String())
	logState.partial.Reset()
	return s
}

//export olmLog
func olmLog(level C.int, text *C.char, _ unsafe.Pointer) { logText(level, C.GoString(text)) }

// logLevelError is ggml's error level, for tests that play the log.
const logLevelError = C.GGML_LOG_LEVEL_ERROR

func logText(level C.int, msg string) {
	logState.Lock()
	defer logState.Unlock()
	// GGML_LOG_LEVEL_CONT continues the previous line; buffer until a newline arrives.
	logState.partial.WriteString(msg)
	if !strings.HasSuffix(msg, "\n") {
		return
	}
	line := strings.TrimSpace(logState.partial.String())
	logState.partial.Reset()
	if line == "" {
		return
	}
	var lvl slog.Level
	switch level {
	case C.GGML_LOG_LEVEL_ERROR:
		lvl = slog.LevelError
		logState.recent = line
		for c := range logState.captures {
			if c.first == "" {
				c.first = line
			}
		}
	case C.GGML_LOG_LEVEL_WARN:
		lvl = slog.LevelWarn
	case C.GGML_LOG_LEVEL_INFO, C.GGML_LOG_LEVEL_CONT:
		lvl = slog.LevelInfo
	default:
		lvl = slog.LevelDebug
	}
	if logState.tap != nil {
		logState.tap(int(level), line)
	}
	if l := logState.logger; l != nil && l.Enabled(context.Background(), lvl) {
		l.Log(context.Background(), lvl, line, "src", "llama.cpp")
	}
}
