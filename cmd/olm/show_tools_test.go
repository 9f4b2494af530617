package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/models"
)

func TestShowToolsLine(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "chat", "template", "testdata", "jinja", name+".jinja"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct{ tmpl, want string }{
		{read("qwen2.5"), "yes (calls as <tool_call> blocks"},
		{read("mistral-v0.3"), "yes (calls as a [TOOL_CALLS] list"},
		{read("chatml"), "no (its chat template does not render tools)"},
		{"", "no (no chat template embedded)"},
	} {
		if got := toolsLine(models.Info{ChatTemplate: c.tmpl}); !strings.HasPrefix(got, c.want) {
			t.Errorf("tools line %q, want %q...", got, c.want)
		}
	}
}
