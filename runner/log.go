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
// the logger it writes to and the last error it reported (llama.cpp returns NULL on a failed
// load and only says why in the log).
var logState struct {
	sync.Mutex
	logger   *slog.Logger
	partial  strings.Builder
	firstErr string                       // the first error since the last take: the root cause
	tap      func(level int, line string) // sees every line while set (the quantizer's progress)
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

// takeLastError returns and clears the first error line llama.cpp logged since the last
// call; later lines only repeat that something failed.
func takeLastError() string {
	logState.Lock()
	defer logState.Unlock()
	e := logState.firstErr
	logState.firstErr = ""
	return e
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
func olmLog(level C.int, text *C.char, _ unsafe.Pointer) {
	msg := C.GoString(text)
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
		if logState.firstErr == "" {
			logState.firstErr = line
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
