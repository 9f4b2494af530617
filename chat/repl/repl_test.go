package repl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/olm-dev/olm/engine"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/runner"
)

// TestScriptedSession is `printf 'Hello\n/stats\n/exit\n' | olm chat MODEL` through the
// plain reader.
func TestScriptedSession(t *testing.T) {
	s, notes := newSession(t, llamaChatML, 512, 6)
	out, errOut := runScript(t, s, NewPlainReader(strings.NewReader("Hello\n/stats\n/exit\nnever read\n")), notes, nil)
	for _, want := range []string{"prompt:", "evaluated", "answer:", "t/s", "first token:", "context:", "of 512 tokens used"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr %q", errOut)
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("%d messages after one question, want 2 (input after /exit must not be read)", n)
	}
}

func TestEndOfInputEndsCleanly(t *testing.T) {
	s, notes := newSession(t, llamaChatML, 512, 4)
	// The last line has no newline; it is still a message.
	runScript(t, s, NewPlainReader(strings.NewReader("Hello\n\nyes")), notes, nil)
	if n := len(s.Messages()); n != 4 {
		t.Fatalf("%d messages, want 4", n)
	}
}

func TestCtrlCAtPrompt(t *testing.T) {
	s, notes := newSession(t, llamaChatML, 512, 4)
	// Ctrl-C with text typed discards the line; at an empty prompt it leaves.
	runScript(t, s, script(interrupted("half a thought"), "Hello", interrupted(""), "never read"), notes, nil)
	if msgs := s.Messages(); len(msgs) != 2 || msgs[0].Content != "Hello" {
		t.Fatalf("messages %+v", msgs)
	}
}

func TestMultiLineBlock(t *testing.T) {
	s, notes := newSession(t, llamaChatML, 512, 4)
	in := lines("\"\"\"first line\nsecond line\n\nlast\"\"\"\n\"\"\"one line\"\"\"\n\"\"\"\n/not a command\n\"\"\"")
	runScript(t, s, in, notes, nil)
	msgs := s.Messages()
	want := []string{"first line\nsecond line\n\nlast", "one line", "/not a command"}
	if len(msgs) != 6 {
		t.Fatalf("messages %+v", msgs)
	}
	for i, w := range want {
		if msgs[2*i].Content != w {
			t.Errorf("message %d = %q, want %q", i, msgs[2*i].Content, w)
		}
	}
	if !strings.Contains(strings.Join(in.prompts, ""), morePrompt) {
		t.Errorf("no continuation prompt in a block: %q", in.prompts)
	}
}

func TestClearKeepsSystem(t *testing.T) {
	s, notes := newSession(t, llamaChatML, 512, 4)
	_, errOut := runScript(t, s, lines("/system be brief\nHello\nyes\n/clear\n"), notes, nil)
	if len(s.Messages()) != 0 || s.System() != "be brief" {
		t.Fatalf("after /clear: %d messages, system %q", len(s.Messages()), s.System())
	}
	if !strings.Contains(errOut, "conversation cleared") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestSaveLoadRoundTrip saves, clears, loads and saves again: the two files are the same
// bytes and the conversation is back.
func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	s, notes := newSession(t, llamaChatML, 512, 4)
	runScript(t, s, lines(fmt.Sprintf("/system sys <|im_end|> \"quoted\"\nHello\ncafé 日本語 </s>\n/save %s\n/clear\n/system\n/load %s\n/save %s\n", a, a, b)), notes, nil)
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Fatalf("round trip changed the transcript:\n%s\nvs\n%s", da, db)
	}
	if !bytes.Contains(da, []byte(`"system": "sys <|im_end|> \"quoted\""`)) || !bytes.Contains(da, []byte(`"model": "tiny"`)) {
		t.Errorf("transcript:\n%s", da)
	}
	if msgs := s.Messages(); len(msgs) != 4 || msgs[2].Content != "café 日本語 </s>" || s.System() != `sys <|im_end|> "quoted"` {
		t.Fatalf("after /load: system %q, messages %+v", s.System(), msgs)
	}
	// The loaded conversation goes on.
	if _, err := s.Ask(context.Background(), "yes", discard); err != nil {
		t.Fatal(err)
	}
}

func TestBadCommandsGoOn(t *testing.T) {
	s, notes := newSession(t, llamaChatML, 512, 4)
	out, errOut := runScript(t, s, lines("/set temp hot\n/set nope 1\n/set top-k\n/load /nonexistent.json\n/retry\n/frobnicate\n/model\nHello\n/set temp 0.3\n/set\n"), notes, nil)
	errLines := strings.Split(strings.TrimSpace(errOut), "\n")
	var errs []string
	for _, l := range errLines {
		if strings.HasPrefix(l, "error: ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 7 {
		t.Fatalf("want 7 one-line errors, got %d:\n%s", len(errs), errOut)
	}
	for i, want := range []string{`"hot": not a number`, `unknown setting "nope"`, "KEY and a VALUE", "no such file", "nothing to retry", "unknown command /frobnicate", "give a model name"} {
		if !strings.Contains(errs[i], want) {
			t.Errorf("error %d %q lacks %q", i, errs[i], want)
		}
	}
	if !strings.Contains(out, "/save FILE") { // help after the unknown command
		t.Errorf("unknown command did not print help:\n%s", out)
	}
	if len(s.Messages()) != 2 || s.Params().Sampling.Temp != 0.3 || !strings.Contains(out, "temp 0.3") {
		t.Fatalf("session did not go on: %d messages, params %+v\n%s", len(s.Messages()), s.Params(), out)
	}
}

func TestIsCommand(t *testing.T) {
	for line, want := range map[string]bool{"/help": true, " /set temp 1": true, "/usr/bin is a folder": false,
		"//comment": false, "/": false, "hello /help": false, "/a.out": false} {
		if got := isCommand(line); got != want {
			t.Errorf("isCommand(%q) = %v", line, got)
		}
	}
}

// TestModelSwitchKeepsConversation switches between two tiny models of different
// vocabularies through the injected loader.
func TestModelSwitchKeepsConversation(t *testing.T) {
	var loaded []string
	var s *engine.Session
	load := func(ctx context.Context, name string, release func()) (*engine.Model, error) {
		paths := map[string]string{"llama": llamaChatML, "qwen": qwenChatML}
		p, ok := paths[name]
		if !ok {
			return nil, fmt.Errorf("no model %q", name)
		}
		if release != nil {
			release()
			if s.Model() != nil {
				t.Error("release left the current model in place")
			}
		}
		loaded = append(loaded, name)
		return open(t, name, p, 512), nil
	}
	m, err := load(context.Background(), "llama", nil)
	if err != nil {
		t.Fatal(err)
	}
	notes := &syncBuffer{}
	s, err = engine.NewSession(m, engine.Settings{Params: greedy(4), Notice: notes})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, errOut := runScript(t, s, lines("Hello\n/model nope\n/model qwen\nyes\n/show\n/model llama\n/retry\n"), notes, load)
	if s.Model().Name != "llama" || strings.Join(loaded, ",") != "llama,qwen,llama" {
		t.Fatalf("model %s, loaded %v", s.Model().Name, loaded)
	}
	if !strings.Contains(errOut, `no model "nope"`) || !strings.Contains(errOut, "now chatting with qwen") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if !strings.Contains(out, "model:    qwen") || !strings.Contains(out, "template: jinja") || !strings.Contains(out, "(gguf)") {
		t.Errorf("/show:\n%s", out)
	}
	if msgs := s.Messages(); len(msgs) != 4 || msgs[0].Content != "Hello" || msgs[2].Content != "yes" {
		t.Fatalf("conversation after switching: %+v", msgs)
	}
}

// TestModelSwitchFailureReloadsTheOldModel: /model frees the current model before loading
// the next; when that load fails the old model comes back and answers.
func TestModelSwitchFailureReloadsTheOldModel(t *testing.T) {
	var calls []string
	load := func(ctx context.Context, name string, release func()) (*engine.Model, error) {
		calls = append(calls, name)
		if release != nil {
			release()
		}
		if name == "broken" {
			return nil, errors.New("broken.gguf: the file is truncated or corrupt")
		}
		return open(t, name, llamaChatML, 512), nil
	}
	m, err := load(context.Background(), "llama", nil)
	if err != nil {
		t.Fatal(err)
	}
	notes := &syncBuffer{}
	s, err := engine.NewSession(m, engine.Settings{Params: greedy(4), Notice: notes})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, errOut := runScript(t, s, lines("/model broken\nHello\n"), notes, load)
	if strings.Join(calls, ",") != "llama,broken,llama" || s.Model() == nil || s.Model().Name != "llama" {
		t.Fatalf("loads %v, model %v", calls, s.Model())
	}
	if !strings.Contains(errOut, "truncated or corrupt (still chatting with llama)") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if msgs := s.Messages(); len(msgs) != 2 || out == "" {
		t.Errorf("no answer after the failed switch: %+v, out %q", msgs, out)
	}
}

// TestCtrlCMidAnswer presses Ctrl-C (the injected interrupt) when the answer starts to
// stream: the answer stops, its text stays in the conversation, the REPL goes on.
func TestCtrlCMidAnswer(t *testing.T) {
	s, notes := newSession(t, llamaChatML, 2048, -1)
	var (
		mu      sync.Mutex
		handler func()
	)
	interrupt := func(stop func()) func() {
		mu.Lock()
		defer mu.Unlock()
		prev := handler
		handler = stop
		return func() { mu.Lock(); handler = prev; mu.Unlock() }
	}
	out := &ctrlCOnWrite{press: func() {
		mu.Lock()
		h := handler
		mu.Unlock()
		if h != nil {
			h()
		}
	}}
	in := lines("Hello\n/stats\n")
	err := Run(context.Background(), Config{Session: s, In: in, Out: out, Err: notes, Interrupt: interrupt})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := s.LastStats()
	if st.Stop != runner.StopCancelled || st.GenTokens > 100 {
		t.Fatalf("answer ended by %s after %d tokens", st.Stop, st.GenTokens)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[1].Role != template.RoleAssistant || msgs[1].Content == "" ||
		!strings.HasPrefix(strings.ToValidUTF8(out.String(), "\uFFFD"), msgs[1].Content) {
		t.Fatalf("partial answer not kept: %+v; output %q", msgs, out.String())
	}
	if !strings.Contains(notes.String(), "interrupted") || !strings.Contains(out.String(), "stop: cancelled") {
		t.Errorf("stderr %q, stdout %q", notes.String(), out.String())
	}
	if handler != nil {
		t.Error("the Ctrl-C handler was not popped after the answer")
	}
}

// ctrlCOnWrite presses Ctrl-C on the first write, as a user who sees the answer start.
type ctrlCOnWrite struct {
	syncBuffer
	once  sync.Once
	press func()
}

func (c *ctrlCOnWrite) Write(p []byte) (int, error) {
	c.once.Do(c.press)
	return c.syncBuffer.Write(p)
}

func TestPlainReaderCancel(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	r := NewPlainReader(pr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.ReadLine(ctx, prompt); err != context.Canceled {
		t.Fatalf("ReadLine on a silent pipe with a cancelled context: %v", err)
	}
	// The read still in flight delivers its line to the next call.
	go pw.Write([]byte("late\n"))
	if line, err := r.ReadLine(context.Background(), prompt); line != "late" || err != nil {
		t.Fatalf("got %q, %v", line, err)
	}
}

func TestHistoryFile(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cases := []struct {
		env  func(string) string
		want string
	}{
		{env("OLM_HOME", "/o", "XDG_DATA_HOME", "/x", "HOME", "/h"), "/o/chat_history"},
		{env("XDG_DATA_HOME", "/x", "HOME", "/h"), "/x/olm/chat_history"},
		{env("HOME", "/h"), "/h/.local/share/olm/chat_history"},
	}
	for _, c := range cases {
		if got, err := HistoryFile(c.env); got != c.want || err != nil {
			t.Errorf("got %q, %v; want %q", got, err, c.want)
		}
	}
	if _, err := HistoryFile(env()); err == nil {
		t.Error("no OLM_HOME and no HOME: want an error")
	}
}

// TestNoticesStartOnTheirOwnLine: with answers and notices on one terminal (the session's
// notices too, as olm chat wires them), the context warning never trails an answer's text.
func TestNoticesStartOnTheirOwnLine(t *testing.T) {
	var term syncBuffer // stdout and stderr of one terminal
	s, err := engine.NewSession(open(t, "tiny", llamaChatML, 256), engine.Settings{Params: greedy(2), Notice: &term})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := Run(context.Background(), Config{Session: s, In: lines(strings.Repeat("yes\n", 30)), Out: &term, Err: &term}); err != nil {
		t.Fatal(err)
	}
	out := term.String()
	warnings := regexp.MustCompile(`context \d+% full`).FindAllStringIndex(out, -1)
	if len(warnings) == 0 {
		t.Fatalf("no context warning in:\n%s", out)
	}
	for _, w := range warnings {
		if i := w[0]; i > 0 && out[i-1] != '\n' {
			t.Fatalf("a warning starts mid-line:\n%q", out[max(0, i-40):i+20])
		}
	}
}
