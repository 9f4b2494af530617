//go:build !linux

package runner

import "runtime/debug"

// ReleaseMemory hands freed Go memory back to the OS.
func ReleaseMemory() { debug.FreeOSMemory() }
