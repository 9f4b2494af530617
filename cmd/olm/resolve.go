package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/models"
)

// resolvedModel is what a command needs to run a model: the file, and what the catalog
// knows about it (empty for a plain path).
type resolvedModel struct {
	Path     string // the GGUF file (first split for split models)
	Name     string // the name the user gave, or the catalog id
	Template string // the catalog's prompt template name, "" if unknown
}

// resolveModel turns a model name or path into a local file, pulling it when missing
// (progress on stderr). Names are catalog ids and aliases, hf.co/OWNER/REPO[:QUANT|:FILE],
// `olm import` names, ollama:NAME[:TAG] and paths.
func resolveModel(ctx context.Context, ios *ioStreams, name string) (resolvedModel, error) {
	d, err := loadModelDeps()
	if err != nil {
		return resolvedModel{}, err
	}
	return resolveWith(ctx, ios, d, name)
}

func resolveWith(ctx context.Context, ios *ioStreams, d *modelDeps, name string) (resolvedModel, error) {
	// Already-pulled models never touch the network; missing ones are pulled as `olm pull`
	// would, so a first `olm run mistral` just works. The progress is made on first
	// use: a wait before a listing is retried (Retry-After) comes before the pull starts.
	var prog *pullProgress
	progress := func() *pullProgress {
		if prog == nil {
			prog = newPullProgress(ios.Err, progressMode(ios, false, false))
		}
		return prog
	}
	d = d.announcingWaits(func(e models.Event) { progress().Event(e) })
	onPull := func(ref models.Ref) models.Progress {
		progress().header = fmt.Sprintf("pulling %s: not on this machine yet", ref.Name)
		return prog.Event
	}
	found, err := models.Ensure(ctx, d.resolver(), d.Env.Store(), d.hub(), name, !d.Client.Offline, onPull)
	ref := found.Ref
	switch {
	case errors.Is(err, models.ErrNotPulled): // offline
		return resolvedModel{}, d.explainHubError(ref.Name, download.ErrOffline)
	case err != nil && ref.Name == "":
		return resolvedModel{}, d.explainHubError(name, err)
	case err != nil:
		return resolvedModel{}, pullFailed(ios, d, ref.Name, "the same command", progress(), err)
	}
	rm := resolvedModel{Path: found.Paths[0], Name: ref.Name}
	if ref.Source == models.SourceFile {
		rm.Name = name // the path as typed reads better than its absolute form
	}
	if ref.Model != nil {
		rm.Template = ref.Model.Template
	}
	return rm, nil
}

// pullFailed explains a failed pull. Ctrl-C keeps the partial download, so it says how
// far it got and how to resume, and exits 130.
func pullFailed(ios *ioStreams, d *modelDeps, name, again string, prog *pullProgress, err error) error {
	if errors.Is(err, context.Canceled) {
		kept := "the partial download is kept"
		if p := prog.partial(); p != "" {
			kept = fmt.Sprintf("the partial download (%s) is kept", p)
		}
		fmt.Fprintf(ios.Err, "pull of %s interrupted: %s; run %s again to resume\n", name, kept, again)
		return errInterrupted
	}
	return d.explainHubError(name, err)
}
