package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/models"
)

type listOptions struct {
	ios  *ioStreams
	deps func() (*modelDeps, error)
	json bool
}

func newListCmd(ios *ioStreams, runF func(context.Context, *listOptions) error) *cobra.Command {
	o := &listOptions{ios: ios, deps: loadModelDeps}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the models on this machine",
		Long: "List the models olm can run without downloading: GGUFs in the Hugging Face hub cache\n" +
			"(pulled by olm, hf download or llama.cpp -hf), files registered with `olm import`, and\n" +
			"models pulled by ollama (used in place). NAME is what to pass to olm run.",
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runList(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print a JSON array")
	return cmd
}

// localJSON is one model in `olm list --json`.
type localJSON struct {
	Name   string `json:"name"`
	Quant  string `json:"quant,omitempty"`
	Size   int64  `json:"size"`
	Source string `json:"source"`
	Path   string `json:"path"`
}

func runList(_ context.Context, o *listOptions) error {
	d, err := o.deps()
	if err != nil {
		return err
	}
	locals, err := models.List(d.Env, d.Catalog)
	if err != nil {
		// List still returns what it could read: show it, and say what was skipped.
		fmt.Fprintf(o.ios.Err, "olm: warning: %v\n", err)
	}
	if o.json {
		out := make([]localJSON, 0, len(locals))
		for _, l := range locals {
			out = append(out, localJSON{Name: l.Name, Quant: l.Quant, Size: l.Size, Source: string(l.Source), Path: l.Path})
		}
		return writeJSON(o.ios.Out, out)
	}
	if len(locals) == 0 {
		fmt.Fprintln(o.ios.Err, "no local models: pull one with `olm pull NAME` (see olm catalog), or `olm import FILE.gguf`")
		return nil
	}
	tw := tabwriter.NewWriter(o.ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tQUANT\tSIZE\tSOURCE\tPATH")
	for _, l := range locals {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Name, dash(l.Quant), download.HumanBytes(l.Size), l.Source, l.Path)
	}
	return tw.Flush()
}

type catalogOptions struct {
	ios  *ioStreams
	deps func() (*modelDeps, error)
	json bool
	all  bool
}

func newCatalogCmd(ios *ioStreams, runF func(context.Context, *catalogOptions) error) *cobra.Command {
	o := &catalogOptions{ios: ios, deps: loadModelDeps}
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List the models olm knows how to pull",
		Long: "List the catalog: each model's default quantization (what `olm pull NAME` fetches), its\n" +
			"download size and whether it is already on this machine. --all lists every quantization.\n" +
			"Any other GGUF repo works too: olm pull hf.co/OWNER/REPO.",
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runCatalog(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print a JSON array")
	cmd.Flags().BoolVar(&o.all, "all", false, "list every quantization, not only the default ones")
	return cmd
}

// catalogJSON is one quant in `olm catalog --json`.
type catalogJSON struct {
	Name        string   `json:"name"`
	ID          string   `json:"id"`
	Aliases     []string `json:"aliases,omitempty"`
	Quant       string   `json:"quant"`
	Default     bool     `json:"default"`
	Repo        string   `json:"repo"`
	File        string   `json:"file"`
	Size        int64    `json:"size,omitempty"`
	SizeApprox  bool     `json:"size_approx,omitempty"`
	Local       bool     `json:"local"`
	Path        string   `json:"path,omitempty"`
	License     string   `json:"license,omitempty"`
	Description string   `json:"description,omitempty"`
}

func runCatalog(_ context.Context, o *catalogOptions) error {
	d, err := o.deps()
	if err != nil {
		return err
	}
	var rows []models.CatalogRow
	for _, r := range d.Catalog.Rows(d.Env.Store()) {
		if o.all || r.Default || r.Local {
			rows = append(rows, r)
		}
	}
	if o.json {
		out := make([]catalogJSON, 0, len(rows))
		for _, r := range rows {
			out = append(out, catalogJSON{Name: r.Name, ID: r.Model.ID, Aliases: r.Model.Aliases, Quant: r.Quant,
				Default: r.Default, Repo: r.Model.Repo, File: r.File, Size: r.Size, SizeApprox: r.SizeApprox,
				Local: r.Local, Path: r.Path, License: r.Model.License, Description: r.Model.Description})
		}
		return writeJSON(o.ios.Out, out)
	}
	tw := tabwriter.NewWriter(o.ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tALIASES\tSIZE\tLOCAL\tDESCRIPTION")
	for _, r := range rows {
		size := "?"
		if r.Size > 0 {
			size = download.HumanBytes(r.Size)
			if r.SizeApprox {
				size = "~" + size
			}
		}
		local := ""
		if r.Local {
			local = "yes"
		}
		aliases := ""
		if r.Default {
			aliases = strings.Join(r.Model.Aliases, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, dash(aliases), size, dash(local), firstSentence(r.Model.Description))
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// firstSentence keeps table rows short.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i]
	}
	const maxLen = 60
	if r := []rune(s); len(r) > maxLen {
		s = string(r[:maxLen-1]) + "…"
	}
	return s
}
