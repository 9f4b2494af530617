package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupts routes Ctrl-C to whoever handles it now. By default it cancels the command's
// context (olm run stops and exits 130); the chat REPL pushes a handler that stops only the
// current answer and returns to the prompt. A second Ctrl-C (or SIGTERM) to a handler that
// already had one ends olm at once: whatever it is blocked in (a FIFO, a stuck read, a call
// into llama.cpp) did not listen to the first.
type interrupts struct {
	mu         sync.Mutex
	handlers   []*handler
	terminated bool // SIGTERM has cancelled the context
}

type handler struct {
	f     func()
	fired bool
}

// Push makes f the handler of the next Ctrl-C until the returned pop is called.
func (i *interrupts) Push(f func()) (pop func()) {
	i.mu.Lock()
	i.handlers = append(i.handlers, &handler{f: f})
	n := len(i.handlers)
	i.mu.Unlock()
	return func() {
		i.mu.Lock()
		defer i.mu.Unlock()
		if len(i.handlers) >= n {
			i.handlers = i.handlers[:n-1]
		}
	}
}

// fire runs the newest handler, and reports false instead when that handler has already
// run, or SIGTERM came first: the caller then exits.
func (i *interrupts) fire() bool {
	i.mu.Lock()
	var h *handler
	if n := len(i.handlers); n > 0 {
		h = i.handlers[n-1]
	}
	again := i.terminated || (h != nil && h.fired)
	if h != nil {
		h.fired = true
	}
	i.mu.Unlock()
	if again {
		return false
	}
	if h != nil {
		h.f()
	}
	return true
}

// terminate cancels on the first SIGTERM and reports false on any later one.
func (i *interrupts) terminate(cancel func()) bool {
	i.mu.Lock()
	again := i.terminated
	i.terminated = true
	i.mu.Unlock()
	if again {
		return false
	}
	cancel()
	return true
}

// withInterrupts returns a context cancelled by Ctrl-C or SIGTERM unless a pushed handler
// takes the Ctrl-C. SIGTERM always cancels. A repeated signal prints to stderr that olm was
// interrupted and exits with 128+signal (130 for Ctrl-C), without waiting for anything.
func withInterrupts(parent context.Context, stderr io.Writer) (context.Context, *interrupts, func()) {
	ctx, cancel := context.WithCancel(parent)
	in := &interrupts{}
	in.Push(cancel)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sig:
				ok, code := true, 130
				if s == syscall.SIGTERM {
					ok, code = in.terminate(cancel), 143
				} else {
					ok = in.fire()
				}
				if !ok {
					fmt.Fprintln(stderr, "olm: interrupted")
					os.Exit(code)
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, in, func() { signal.Stop(sig); close(done); cancel() }
}
