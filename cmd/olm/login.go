package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

type loginOptions struct {
	ios   *ioStreams
	deps  func() (*modelDeps, error)
	token string
}

func newLoginCmd(ios *ioStreams, runF func(context.Context, *loginOptions) error) *cobra.Command {
	o := &loginOptions{ios: ios, deps: loadModelDeps}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Store a Hugging Face token for gated and private repos",
		Long: "Store a Hugging Face access token (https://huggingface.co/settings/tokens) under OLM_HOME,\n" +
			"readable by you only. olm sends it to HF_ENDPOINT only, never to the download CDN, and never\n" +
			"prints it. HF_TOKEN, when set, wins over the stored token. The token is read from stdin\n" +
			"(typed without echo on a terminal) unless --token is given.",
		Example: "  olm login\n  echo \"$TOKEN\" | olm login",
		Args:    argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runLogin(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.token, "token", "", "the token (default: read it from stdin; a flag may end up in shell history)")
	return cmd
}

func runLogin(_ context.Context, o *loginOptions) error {
	d, err := o.deps()
	if err != nil {
		return err
	}
	tok := strings.TrimSpace(o.token)
	if tok == "" {
		if tok, err = o.readToken(); err != nil {
			return err
		}
	}
	if tok == "" {
		return errors.New("no token given: paste one from https://huggingface.co/settings/tokens on stdin, or use --token")
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return errors.New("the token contains spaces: give only the token (hf_...)")
	}
	path, err := writeToken(d.Env, tok)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ios.Err, "token stored in %s (readable by you only)\n", path)
	if d.TokenFromEnv {
		fmt.Fprintln(o.ios.Err, "olm: warning: HF_TOKEN is set and is used instead of the stored token; unset it to use this one")
	}
	return nil
}

// readToken reads one line from stdin, without echo on a terminal.
func (o *loginOptions) readToken() (string, error) {
	if f, ok := o.ios.In.(*os.File); ok && o.ios.InTTY {
		fmt.Fprint(o.ios.Err, "Hugging Face token (from https://huggingface.co/settings/tokens): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(o.ios.Err)
		if err != nil {
			return "", fmt.Errorf("read token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := bufio.NewReader(o.ios.In).ReadString('\n')
	if err != nil && line == "" {
		return "", nil
	}
	return strings.TrimSpace(line), nil
}
