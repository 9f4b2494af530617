package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/models"
)

type rmOptions struct {
	ios   *ioStreams
	deps  func() (*modelDeps, error)
	names []string
}

func newRmCmd(ios *ioStreams, runF func(context.Context, *rmOptions) error) *cobra.Command {
	o := &rmOptions{ios: ios, deps: loadModelDeps}
	cmd := &cobra.Command{
		Use:     "rm MODEL...",
		Aliases: []string{"remove"},
		Short:   "Remove downloaded models",
		Long: "Remove a pulled model from the hub cache: its snapshot links, and its blobs unless another\n" +
			"snapshot still uses them (those are kept and listed). An imported model is forgotten; its\n" +
			"file is never deleted. ollama's models are left to ollama.",
		Example: "  olm rm mistral\n  olm rm hf.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q8_0.gguf",
		Args:    argsBetween(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.names = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRm(cmd.Context(), o)
		},
	}
	return cmd
}

func runRm(ctx context.Context, o *rmOptions) error {
	d, err := o.deps()
	if err != nil {
		return err
	}
	// Removing never needs the network: hf.co names resolve from the cache.
	r := d.resolver()
	r.Lister = nil
	for _, name := range o.names {
		ref, err := r.Resolve(ctx, name)
		if err != nil {
			return err
		}
		removed, err := models.Remove(d.Env, ref)
		if errors.Is(err, models.ErrNotLocal) {
			return fmt.Errorf("%s is not downloaded: nothing to remove (olm list shows local models)", ref.Name)
		}
		if err != nil {
			return err
		}
		o.report(ref, removed)
	}
	return nil
}

func (o *rmOptions) report(ref models.Ref, r models.Removed) {
	if ref.Source == models.SourceImport {
		fmt.Fprintf(o.ios.Out, "forgot %s; the file %s is untouched\n", ref.Name, ref.Path)
		return
	}
	fmt.Fprintf(o.ios.Out, "removed %s: %d file(s), %d blob(s) deleted, %s freed\n",
		ref.Name, len(r.Links), len(r.Blobs), download.HumanBytes(r.Freed))
	for _, b := range r.Kept {
		fmt.Fprintf(o.ios.Out, "kept blob %s: another snapshot still uses it\n", filepath.Base(b))
	}
}
