package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// argsBetween is cobra.RangeArgs with errors that say what to type, taken from the
// command's Use line and first example, instead of "accepts 1 arg(s), received 0".
// max < 0 means no upper bound.
func argsBetween(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		what := strings.Join(strings.Fields(cmd.Use)[1:], " ")
		example := ""
		if ex := strings.TrimSpace(strings.SplitN(cmd.Example, "\n", 2)[0]); ex != "" {
			example = fmt.Sprintf(", e.g. `%s`", ex)
		}
		switch {
		case len(args) < min:
			return fmt.Errorf("%s needs %s%s", cmd.Name(), what, example)
		case max == 0 && len(args) > 0:
			return fmt.Errorf("%s takes no arguments, got %q", cmd.Name(), args)
		case max >= 0 && len(args) > max:
			return fmt.Errorf("%s takes %s, got %d arguments: quote text that has spaces", cmd.Name(), what, len(args))
		}
		return nil
	}
}
