package runner

// #include <malloc.h>
import "C"

import "runtime/debug"

// ReleaseMemory hands freed memory back to the OS: Go's heap and glibc's arenas, which keep
// the buffers of a freed model or context otherwise. Call it after unloading a model, so a
// long chat session that switches models does not look like it leaks.
func ReleaseMemory() {
	debug.FreeOSMemory()
	C.malloc_trim(0)
}
