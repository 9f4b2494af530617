package repl

import (
	"context"
	"errors"
	"fmt"
	"github.com/olm-dev/olm/engine"
	"strings"
)

// command is one slash command.
type command struct {
	name, args, help string
	run              func(r *repl, ctx context.Context, arg string) (quit bool, err error)
}

func commands() []command {
	return []command{
		{"/help", "", "show this help", (*repl).help},
		{"/system", "TEXT", "set the system prompt (no TEXT: remove it)", (*repl).system},
		{"/set", "KEY VALUE", "change a setting: " + strings.Join(engine.SetKeys(), ", "), (*repl).set},
		{"/show", "", "model, settings, chat template and why it was chosen", (*repl).show},
		{"/clear", "", "forget the conversation (the system prompt stays)", (*repl).clear},
		{"/save", "FILE", "save the conversation as JSON", (*repl).save},
		{"/load", "FILE", "load a conversation saved with /save", (*repl).load},
		{"/stats", "", "speed of the last answer and context use", (*repl).stats},
		{"/model", "NAME", "switch model, keeping the conversation", (*repl).model},
		{"/retry", "", "answer the last message again", (*repl).retry},
		{"/exit", "", "leave (also /bye, Ctrl-D, or Ctrl-C at an empty prompt)", (*repl).exit},
		{"/bye", "", "", (*repl).exit},
	}
}

// isCommand tells "/set temp 0" from a message that merely starts with a slash, like a
// path ("/usr/bin is ...") or "//".
func isCommand(line string) bool {
	name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	return len(name) > 1 && name[0] == '/' && !strings.ContainsAny(name[1:], "/.")
}

// command runs a slash command; it reports whether the REPL should end. Failures print one
// line and the session goes on.
func (r *repl) command(ctx context.Context, line string) bool {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	for _, c := range commands() {
		if strings.EqualFold(c.name, name) {
			quit, err := c.run(r, ctx, arg)
			if err != nil {
				r.errorf("%s: %v", c.name, err)
			}
			return quit
		}
	}
	r.errorf("unknown command %s", name)
	r.help(ctx, "")
	return false
}

func (r *repl) help(context.Context, string) (bool, error) {
	var b strings.Builder
	for _, c := range commands() {
		if c.help == "" {
			continue
		}
		fmt.Fprintf(&b, "  %-18s %s\n", strings.TrimSpace(c.name+" "+c.args), c.help)
	}
	fmt.Fprintf(&b, "  %-18s %s\n", `"""`, `start and end a multi-line message`)
	b.WriteString("Ctrl-C stops an answer; Ctrl-C at an empty prompt or Ctrl-D leaves.\n")
	fmt.Fprint(r.Out, b.String())
	return false, nil
}

func (r *repl) system(_ context.Context, arg string) (bool, error) {
	r.Session.SetSystem(arg)
	if arg == "" {
		r.notef("system prompt removed")
	} else {
		r.notef("system prompt set")
	}
	return false, nil
}

func (r *repl) set(_ context.Context, arg string) (bool, error) {
	if arg == "" {
		fmt.Fprintln(r.Out, r.Session.Params())
		return false, nil
	}
	key, value, ok := strings.Cut(arg, " ")
	if !ok {
		return false, fmt.Errorf("give a KEY and a VALUE, e.g. /set temp 0.7")
	}
	if err := r.Session.Set(key, value); err != nil {
		return false, err
	}
	r.notef("set %s %s", key, strings.TrimSpace(value))
	return false, nil
}

func (r *repl) show(context.Context, string) (bool, error) {
	s := r.Session
	m := s.Model()
	var b strings.Builder
	fmt.Fprintf(&b, "model:    %s (%s)\n", m.Name, m.LM.Desc())
	fmt.Fprintf(&b, "file:     %s\n", m.LM.Path())
	fmt.Fprintf(&b, "context:  %d tokens, %d used\n", m.Engine.SlotCtx(), m.Engine.Stats().CachedTokens)
	fmt.Fprintf(&b, "settings: %s\n", s.Params())
	fmt.Fprintf(&b, "template: %s\n", m.Why)
	fmt.Fprintf(&b, "stops:    %q\n", s.StopStrings())
	if sys := s.System(); sys != "" {
		fmt.Fprintf(&b, "system:   %q\n", sys)
	}
	fmt.Fprint(r.Out, b.String())
	return false, nil
}

func (r *repl) clear(context.Context, string) (bool, error) {
	r.Session.Clear()
	r.notef("conversation cleared")
	return false, nil
}

func (r *repl) save(_ context.Context, arg string) (bool, error) {
	if arg == "" {
		return false, errors.New("give a file name")
	}
	if err := engine.SaveTranscript(arg, r.Session.Transcript()); err != nil {
		return false, err
	}
	r.notef("saved %d messages to %s", len(r.Session.Messages()), arg)
	return false, nil
}

func (r *repl) load(_ context.Context, arg string) (bool, error) {
	if arg == "" {
		return false, errors.New("give a file name")
	}
	t, err := engine.LoadTranscript(arg)
	if err != nil {
		return false, err
	}
	r.Session.Restore(t)
	r.notef("loaded %d messages from %s", len(t.Messages), arg)
	if cur := r.Session.Model().Name; t.Model != "" && t.Model != cur {
		r.notef("the transcript was made with %s; %s answers now (/model %s to switch)", t.Model, cur, t.Model)
	}
	return false, nil
}

func (r *repl) stats(context.Context, string) (bool, error) {
	st, ok := r.Session.LastStats()
	if !ok {
		e := r.Session.Model().Engine
		used, size := e.Stats().CachedTokens, e.SlotCtx()
		fmt.Fprintf(r.Out, "no answer yet\ncontext:    %d of %d tokens used (%d%%)\n", used, size, used*100/max(size, 1))
		return false, nil
	}
	fmt.Fprint(r.Out, r.dim(st.String()))
	return false, nil
}

func (r *repl) model(ctx context.Context, arg string) (bool, error) {
	if arg == "" {
		return false, errors.New("give a model name")
	}
	if r.Load == nil {
		return false, errors.New("switching models is not available here")
	}
	current := r.Session.Model().Name
	released := false
	release := func() { r.Session.ReleaseModel(); released = true }
	var m *engine.Model
	_, err := r.interruptible(ctx, func(ctx context.Context) (engine.Answer, error) {
		var err error
		m, err = r.Load(ctx, arg, release)
		return engine.Answer{}, err
	})
	if err != nil && released {
		// The current model made room for one that did not load (or Ctrl-C stopped it):
		// bring it back, so the chat goes on where it was.
		back, rerr := r.Load(ctx, current, nil)
		if rerr != nil {
			return true, fmt.Errorf("%v; reloading %s failed too (%v): the chat ends here", err, current, rerr)
		}
		r.Session.SwitchModel(back)
		return false, fmt.Errorf("%v (still chatting with %s)", err, current)
	}
	if err != nil {
		return false, err
	}
	r.Session.SwitchModel(m)
	r.notef("now chatting with %s (template %s)", m.Name, m.Template.Name())
	return false, nil
}

func (r *repl) retry(ctx context.Context, _ string) (bool, error) {
	r.answer(ctx, r.Session.Retry)
	return false, nil
}

func (r *repl) exit(context.Context, string) (bool, error) { return true, nil }
