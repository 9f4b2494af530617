package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupts routes Ctrl-C to whoever handles it now. By default it cancels the command's
// context (olm run stops and exits 130); the chat REPL pushes a handler that stops only the
// current answer and returns to the prompt.
type interrupts struct {
	mu       sync.Mutex
	handlers []func()
}

// Push makes f the handler of the next Ctrl-C until the returned pop is called.
func (i *interrupts) Push(f func()) (pop func()) {
	i.mu.Lock()
	i.handlers = append(i.handlers, f)
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

// fire runs the newest handler.
func (i *interrupts) fire() {
	i.mu.Lock()
	var f func()
	if n := len(i.handlers); n > 0 {
		f = i.handlers[n-1]
	}
	i.mu.Unlock()
	if f != nil {
		f()
	}
}

// withInterrupts returns a context cancelled by Ctrl-C or SIGTERM unless a pushed handler
// takes the Ctrl-C. SIGTERM always cancels.
func withInterrupts(parent context.Context) (context.Context, *interrupts, func()) {
	ctx, cancel := context.WithCancel(parent)
	in := &interrupts{}
	in.Push(cancel)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sig:
				if s == syscall.SIGTERM {
					cancel()
				} else {
					in.fire()
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, in, func() { signal.Stop(sig); close(done); cancel() }
}
