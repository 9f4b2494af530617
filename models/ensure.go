package models

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotPulled: a model's files are not on this machine and pulling was not allowed.
var ErrNotPulled = errors.New("model not pulled")

// Found is a model ready to load: its reference and its files, first part first.
type Found struct {
	Ref   Ref
	Paths []string
}

// LocalFiles returns the files of ref when every one is on this machine.
func LocalFiles(st Store, ref Ref) ([]string, bool) {
	if !ref.Remote() {
		return []string{ref.Path}, true
	}
	var paths []string
	for _, f := range ref.Files {
		p, err := st.Lookup(ref.Repo, ref.Revision, f)
		if err != nil {
			return nil, false
		}
		paths = append(paths, p)
	}
	return paths, len(paths) > 0
}

// Ensure resolves a name and makes its files present: already-pulled models never touch
// the network; a missing one is pulled (progress may be nil) when pull is set, and is
// ErrNotPulled otherwise. onPull, when not nil, is asked for the pull's progress sink once a
// pull starts. olm run, chat, bench and serve all find their models here.
func Ensure(ctx context.Context, r Resolver, store Store, hub Hub, name string, pull bool, onPull func(Ref) Progress) (Found, error) {
	ref, err := r.Resolve(ctx, name)
	if err != nil {
		return Found{}, err
	}
	if paths, ok := LocalFiles(store, ref); ok {
		return Found{Ref: ref, Paths: paths}, nil
	}
	if !pull {
		return Found{Ref: ref}, fmt.Errorf("%w: %s is not on this machine", ErrNotPulled, ref.Name)
	}
	var progress Progress
	if onPull != nil {
		progress = onPull(ref)
	}
	pulled, err := Pull(ctx, store, ref, hub, progress)
	if err != nil {
		return Found{Ref: ref}, err
	}
	return Found{Ref: ref, Paths: pulled.Paths}, nil
}
