package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/models"
	"github.com/olm-dev/olm/runner"
)

type importOptions struct {
	ios  *ioStreams
	deps func() (*modelDeps, error)
	path string
	name string
}

func newImportCmd(ios *ioStreams, runF func(context.Context, *importOptions) error) *cobra.Command {
	o := &importOptions{ios: ios, deps: loadModelDeps}
	cmd := &cobra.Command{
		Use:   "import PATH.gguf",
		Short: "Register a GGUF file you already have, in place",
		Long: "Register a local GGUF file under a name, so `olm run NAME` and `olm chat NAME` use it where\n" +
			"it is: nothing is copied, and `olm rm NAME` only forgets the name. The name defaults to the\n" +
			"file name without .gguf.",
		Example: "  olm import ~/models/mistral-7b-instruct-v0.2.Q4_K_M.gguf --name my-mistral",
		Args:    argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.path = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runImport(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.name, "name", "", "name to run it by (default: the file name without .gguf)")
	return cmd
}

func runImport(ctx context.Context, o *importOptions) error {
	d, err := o.deps()
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(o.path), filepath.Ext(o.path))
	}
	// A file run would refuse is not registered: the GGUF check, then llama.cpp itself on the
	// metadata and tensor layout (no weights read).
	if err := runner.ProbeModel(ctx, o.path); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	imp, err := models.Import(d.Env, o.path, name)
	if err != nil {
		return err
	}
	if m, ok := d.Catalog.Lookup(name); ok {
		fmt.Fprintf(o.ios.Err, "olm: warning: %s now means this file, not the catalog's %s\n", name, m.ID)
	}
	fmt.Fprintf(o.ios.Out, "imported %s: %s (used in place, not copied); run it with `olm run %s`\n", name, imp.Path, name)
	return nil
}
