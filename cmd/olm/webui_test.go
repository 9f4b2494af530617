package main

// The chat page that olm serve gives browsers at /, tested in a real headless Chromium
// (Debian's chromium package; .ci/run installs it) against an olm serve in this process.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/olm-dev/olm/internal/realmodel"
)

// chromium finds the browser, or skips the test saying so (fails under CI=true).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium on PATH (apt-get install chromium): the browser tests of the chat page need one"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must run them (.ci/run installs it)")
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts one headless Chromium for a test; its tabs are separate profiles.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	realmodel.Stories260K(t) // skip (or fail under CI) before starting anything
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", path, err)
	}
	return bctx
}

// tab is one page in a profile of its own, with what its console reported.
type tab struct {
	ctx        context.Context
	mu         sync.Mutex
	errors     []string // console errors, network errors included
	exceptions []string // the page's own JavaScript failing
}

func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	tb := &tab{}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	tb.ctx = ctx
	// The tab lives as long as the context of its first run: this one, without a timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return tb
}

// sibling opens another tab in tb's profile: the two share localStorage, as two tabs of
// one browser do.
func (tb *tab) sibling(t *testing.T) *tab {
	t.Helper()
	sib := &tab{}
	ctx, cancel := chromedp.NewContext(tb.ctx, chromedp.WithListener(sib.listen))
	t.Cleanup(cancel)
	sib.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("open a second tab: %v", err)
	}
	return sib
}

func (tb *tab) listen(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		tb.exceptions = append(tb.exceptions, msg)
		tb.errors = append(tb.errors, "exception: "+msg)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			tb.exceptions = append(tb.exceptions, "console.error: "+strings.Join(parts, " "))
			tb.errors = append(tb.errors, "console.error: "+strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			tb.errors = append(tb.errors, fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

// consoleErrors: all, or only the page's own failures (where network errors are expected).
func (tb *tab) consoleErrors(all bool) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if all {
		return append([]string(nil), tb.errors...)
	}
	return append([]string(nil), tb.exceptions...)
}

func (tb *tab) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 40*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v; console: %q", err, tb.consoleErrors(true))
	}
}

func evalJS[T any](t *testing.T, tb *tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// poll waits until the page's JavaScript expression holds.
func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(20*time.Millisecond))
}

const (
	pageReady  = `document.body.dataset.ready === "true"`
	lastAnswer = `document.querySelector("#messages .msg.assistant:last-child")`
	answerDone = lastAnswer + `?.dataset.done === "true"`
	notice     = `document.getElementById("notice").hidden ? "" : document.getElementById("notice-text").textContent`
	// streaming: text shows while the answer still runs.
	streaming = lastAnswer + `?.querySelector(".content").textContent.length > 0 && !document.getElementById("stop").hidden`
)

type chatMessage struct{ Role, Content string }

// recordRequests makes the page keep the body of each chat request it sends (until it
// reloads), for sentMessages.
func recordRequests(t *testing.T, tb *tab) {
	t.Helper()
	evalJS[chromedp.Void](t, tb, `window.sent = []; const f = window.fetch; window.fetch = function (u, o) {
		if (String(u).endsWith("/v1/chat/completions") && o && typeof o.body === "string") window.sent.push(JSON.parse(o.body));
		return f.apply(this, arguments);
	}; 0`)
}

// sentMessages: the messages of the last chat request the page sent.
func sentMessages(t *testing.T, tb *tab) []chatMessage {
	t.Helper()
	return evalJS[[]chatMessage](t, tb, `window.sent.at(-1).messages`)
}

// ask sends a message from the page and waits for the whole answer.
func (tb *tab) ask(t *testing.T, model, text string, maxTokens int) {
	t.Helper()
	tb.do(t, chromedp.SetValue(chromedp.ID("model"), model), chromedp.SetValue(chromedp.ID("temperature"), "0"),
		chromedp.SetValue(chromedp.ID("max-tokens"), fmt.Sprint(maxTokens)),
		chromedp.SetValue(chromedp.ID("input"), text), chromedp.Click(chromedp.ID("send")), poll(answerDone))
}

func screenshot(t *testing.T, tb *tab, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	// ArtifactDir is a temporary directory, kept with go test -artifacts for a person to look at.
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the page: %s", path)
}

func TestWebUI(t *testing.T) {
	browser := newBrowser(t)
	// A long context, so that the answer the Stop test cuts is still running when it does.
	s := startServe(t, func(o *serveOptions) { o.ctx = 4096 })
	// longAnswer opens the page and starts an answer long enough to act on while it streams.
	longAnswer := slices.Clip([]chromedp.Action[chromedp.Void]{chromedp.Navigate(s.url + "/"), poll(pageReady),
		chromedp.SetValue(chromedp.ID("model"), "stories"), chromedp.SetValue(chromedp.ID("temperature"), "0"),
		chromedp.SetValue(chromedp.ID("max-tokens"), "4000"),
		chromedp.SetValue(chromedp.ID("input"), "Once upon a time"), chromedp.Click(chromedp.ID("send")),
		poll(streaming)})

	t.Run("who gets the page, and whose calls it may make", func(t *testing.T) {
		get := func(method, accept string) (int, string, http.Header) {
			req, _ := http.NewRequest(method, s.url+"/", nil)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b), resp.Header
		}
		if code, body, _ := get("GET", ""); code != 200 || body != "olm is running" {
			t.Fatalf("GET / without Accept: %d %q", code, body)
		}
		code, body, h := get("GET", "text/html,application/xhtml+xml,*/*;q=0.8")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, `src="/webui/app.js"`) ||
			!strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("GET / for a browser: %d %v %.200q", code, h, body)
		}
		if code, body, _ := get("HEAD", "text/html"); code != 200 || body != "" {
			t.Fatalf("HEAD / for a browser: %d %q", code, body)
		}
		// The page opened from another machine (--host 0.0.0.0) calls the API of the server
		// it came from: same origin, by IP. A DNS name could be another site rebound here.
		for _, c := range []struct {
			origin, host string
			status       int
		}{
			{"http://192.0.2.7:11435", "192.0.2.7:11435", 200},
			{"http://192.0.2.8:11435", "192.0.2.7:11435", 403},
			{"http://evil.example:11435", "evil.example:11435", 403},
		} {
			req, _ := http.NewRequest("GET", s.url+"/v1/models", nil)
			req.Host = c.host
			req.Header.Set("Origin", c.origin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("Origin %s to Host %s: %d, want %d", c.origin, c.host, resp.StatusCode, c.status)
			}
		}
	})

	t.Run("chat streams, shows stats and survives a reload", func(t *testing.T) {
		tb := newTab(t, browser)
		tb.do(t, chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(chromedp.ID("send")), poll(pageReady),
			poll(`[...document.querySelectorAll("#model option")].some(o => o.value === "stories")`))
		// Record the answer's length at each change of the DOM, to see it grow piece by piece.
		evalJS[chromedp.Void](t, tb, `window.lens = []; new MutationObserver(() => {
			const c = document.querySelector("#messages .msg.assistant:last-child .content");
			if (c && c.textContent.length !== window.lens.at(-1)) window.lens.push(c.textContent.length);
		}).observe(document.getElementById("messages"), {childList: true, subtree: true, characterData: true}); 0`)
		const system = "You are a storyteller."
		tb.do(t, chromedp.SetValue(chromedp.ID("system"), system))
		tb.ask(t, "stories", "Once upon a time", 48)
		answer := evalJS[string](t, tb, lastAnswer+`.querySelector(".content").textContent`)
		stats := evalJS[string](t, tb, lastAnswer+`.querySelector(".stats").textContent`)
		lens := evalJS[[]int](t, tb, `window.lens`)

		// The page sent what it shows: the same request through the API gives the same text.
		body := fmt.Sprintf(`{"model":"stories","temperature":0,"max_tokens":48,"messages":[{"role":"system","content":%q},{"role":"user","content":"Once upon a time"}]}`, system)
		resp, err := http.Post(s.url+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var api struct {
			Choices []struct{ Message struct{ Content string } }
		}
		json.NewDecoder(resp.Body).Decode(&api)
		resp.Body.Close()
		if len(api.Choices) != 1 || api.Choices[0].Message.Content != answer {
			t.Fatalf("page shows %q; the API answers %+v", answer, api)
		}
		englishLooking(t, answer)
		if len(lens) < 3 {
			t.Errorf("the answer appeared in %d steps (%v): not streamed", len(lens), lens)
		}
		for _, want := range []string{"max tokens reached", "48 tokens", "tokens/s", "of 4096 tokens"} {
			if !strings.Contains(stats, want) {
				t.Errorf("stats %q lack %q", stats, want)
			}
		}
		if errs := tb.consoleErrors(true); len(errs) > 0 {
			t.Errorf("console errors: %q", errs)
		}
		screenshot(t, tb, "webui-chat.png")

		tb.do(t, chromedp.Reload(), poll(pageReady), poll(answerDone+` || `+lastAnswer+` !== null`))
		gotUser := evalJS[string](t, tb, `document.querySelector("#messages .msg.user .content").textContent`)
		gotAnswer := evalJS[string](t, tb, lastAnswer+`.querySelector(".content").textContent`)
		gotStats := evalJS[string](t, tb, lastAnswer+`.querySelector(".stats").textContent`)
		chats := evalJS[[]string](t, tb, `[...document.querySelectorAll("#chats .open")].map(b => b.textContent)`)
		if gotUser != "Once upon a time" || gotAnswer != answer || gotStats != stats || len(chats) != 1 || chats[0] != "Once upon a time" {
			t.Fatalf("after a reload: user %q, answer %q, stats %q, chats %q", gotUser, gotAnswer, gotStats, chats)
		}
		if got := evalJS[string](t, tb, `document.getElementById("system").value`); got != system {
			t.Fatalf("system prompt after a reload: %q", got)
		}

		// A second chat, then switch back to the first and delete the second.
		tb.do(t, chromedp.Click(chromedp.ID("new-chat")), poll(`document.querySelectorAll("#messages .msg").length === 0`))
		tb.ask(t, "stories", "The little dog", 8)
		tb.do(t, poll(`document.querySelectorAll("#chats .open").length === 2`),
			chromedp.Click(chromedp.CSS(`#chats li:nth-child(2) .open`)),
			poll(`document.querySelector("#messages .msg.user .content")?.textContent === "Once upon a time"`),
			chromedp.Click(chromedp.CSS(`#chats li:nth-child(1) .delete`)),
			poll(`document.querySelectorAll("#chats .open").length === 1`))
		if got := evalJS[string](t, tb, `JSON.parse(localStorage.getItem("olm.chats")).map(c => c.title).join("|")`); got != "Once upon a time" {
			t.Fatalf("stored chats after deleting one: %q", got)
		}
	})

	t.Run("stop ends a long answer, frees the slot and says what it took", func(t *testing.T) {
		tb := newTab(t, browser)
		tb.do(t, longAnswer...)
		waitMetric(t, s, "olm_slots_busy", func(v float64) bool { return v == 1 })
		tb.do(t, chromedp.Click(chromedp.ID("stop")), poll(answerDone), chromedp.WaitVisible(chromedp.ID("send")))
		waitMetric(t, s, "olm_slots_busy", func(v float64) bool { return v == 0 })
		stats := evalJS[string](t, tb, lastAnswer+`.querySelector(".stats").textContent`)
		text := evalJS[string](t, tb, lastAnswer+`.querySelector(".content").textContent`)
		// No usage ends a stopped stream: the count is the one every chunk carried.
		m := regexp.MustCompile(`^stopped · (\d+) tokens · [\d.]+ tokens/s`).FindStringSubmatch(stats)
		if m == nil || text == "" {
			t.Fatalf("after Stop: stats %q, text %.200q", stats, text)
		}
		// That many tokens, asked for whole (greedy), are the text the page shows.
		code, body := post(t, s.url+"/v1/chat/completions", `{"model":"stories","temperature":0,"max_tokens":`+m[1]+
			`,"messages":[{"role":"user","content":"Once upon a time"}]}`)
		var whole struct {
			Choices []struct{ Message struct{ Content string } }
		}
		json.Unmarshal([]byte(body), &whole)
		if code != 200 || len(whole.Choices) != 1 || whole.Choices[0].Message.Content != text {
			t.Fatalf("the page stopped after %q with %s; %s tokens asked for whole: %d %.300s", text, stats, m[1], code, body)
		}
		if errs := tb.consoleErrors(false); len(errs) > 0 {
			t.Errorf("page errors: %q", errs)
		}
	})

	t.Run("a reload while an answer streams keeps what came, marked", func(t *testing.T) {
		tb := newTab(t, browser)
		tb.do(t, append(longAnswer,
			// Stored as it streams, not only at its end.
			poll(`(m => m?.partial === true && m.content.length > 0)(JSON.parse(localStorage.getItem("olm.chats"))[0].messages[1]) &&
				!document.getElementById("stop").hidden`))...)
		before := evalJS[int](t, tb, lastAnswer+`.querySelector(".content").textContent.length`)
		tb.do(t, chromedp.Reload(), poll(pageReady), poll(lastAnswer+` !== null`))
		text := evalJS[string](t, tb, lastAnswer+`.querySelector(".content").textContent`)
		stats := evalJS[string](t, tb, lastAnswer+`.querySelector(".stats").textContent`)
		after := evalJS[int](t, tb, lastAnswer+`.querySelector(".content").textContent.length`)
		if after < before || !strings.HasPrefix(stats, "interrupted · ") || !strings.Contains(stats, "tokens/s") {
			t.Fatalf("after a reload mid-answer: %d characters (%d shown before), stats %q", after, before, stats)
		}
		stored := evalJS[[]map[string]any](t, tb, `JSON.parse(localStorage.getItem("olm.chats"))[0].messages`)
		if len(stored) != 2 || stored[1]["content"] != text || stored[1]["note"] != "interrupted" || stored[1]["partial"] != nil {
			t.Fatalf("stored after a reload mid-answer: %v", stored)
		}
		// The next question goes after the answer that came: the turns alternate.
		recordRequests(t, tb)
		tb.ask(t, "stories", "What happened next?", 8)
		want := []chatMessage{{"user", "Once upon a time"}, {"assistant", text}, {"user", "What happened next?"}}
		if got := sentMessages(t, tb); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("the page sent %.400q, want %.400q", got, want)
		}
		if errs := tb.consoleErrors(false); len(errs) > 0 {
			t.Errorf("page errors: %q", errs)
		}
	})

	t.Run("two tabs keep each other's chats", func(t *testing.T) {
		a := newTab(t, browser)
		a.do(t, chromedp.Navigate(s.url+"/"), poll(pageReady))
		b := a.sibling(t)
		b.do(t, chromedp.Navigate(s.url+"/"), poll(pageReady))
		a.ask(t, "stories", "Once upon a time", 8)
		// b had the same (then empty) chat open: it shows the answer a wrote, then starts its own.
		b.do(t, poll(`document.querySelector("#messages .msg.user .content")?.textContent === "Once upon a time"`),
			chromedp.Click(chromedp.ID("new-chat")), poll(`document.querySelectorAll("#messages .msg").length === 0`))
		b.ask(t, "stories", "The little dog", 8)
		const titles = `[...document.querySelectorAll("#chats .open")].map(c => c.textContent).sort().join("|")`
		for _, tb := range []*tab{a, b} {
			tb.do(t, poll(titles+` === "Once upon a time|The little dog"`))
		}
		stored := evalJS[string](t, a, `JSON.parse(localStorage.getItem("olm.chats")).map(c => c.title + ":" + c.messages.length).sort().join("|")`)
		if stored != "Once upon a time:2|The little dog:2" {
			t.Fatalf("stored chats (title:messages) after two tabs asked: %q", stored)
		}
		// a deletes b's chat: b's list follows.
		a.do(t, chromedp.Click(chromedp.CSS(`#chats li:nth-child(1) .delete`)), poll(`document.querySelectorAll("#chats .open").length === 1`))
		b.do(t, poll(titles+` === "Once upon a time"`))
		for _, tb := range []*tab{a, b} {
			if errs := tb.consoleErrors(false); len(errs) > 0 {
				t.Errorf("page errors: %q", errs)
			}
		}
	})

	t.Run("unreadable stored data is left out, not a dead page", func(t *testing.T) {
		tb := newTab(t, browser)
		tb.do(t, chromedp.Navigate(s.url+"/"), poll(pageReady))
		good := `{"id":"g","title":"Kept","system":"","updated":5,"messages":[{"role":"user","content":"Once upon a time"},` +
			`{"role":"assistant","content":", there was","partial":true},{"role":"user","content":"And then?"},` +
			`{"role":"assistant","content":"","partial":true}]}`
		for _, c := range []struct{ name, chats, settings, current string }{
			{"a null message", `[{"id":"a","messages":[null]}]`, `{"model":"stories"}`, `"a"`},
			{"not JSON", `[{"id":`, `null`, `5`},
			{"bad beside good", `[5,{"id":"b","messages":[{"role":"user","content":{"x":1}}]},` + good + `,{"id":"g","messages":[]}]`, `"x"`, `"g"`},
		} {
			evalJS[chromedp.Void](t, tb, fmt.Sprintf(`localStorage.setItem("olm.chats", %q); localStorage.setItem("olm.settings", %q);
				localStorage.setItem("olm.current", %q); 0`, c.chats, c.settings, c.current))
			tb.do(t, chromedp.Reload(), poll(pageReady), poll(`[...document.querySelectorAll("#model option")].some(o => o.value === "stories")`))
			if got := evalJS[string](t, tb, notice); !strings.Contains(got, "could not read") {
				t.Errorf("%s: notice %q", c.name, got)
			}
			if got := evalJS[string](t, tb, `localStorage.getItem("olm.chats.unreadable")`); got != c.chats {
				t.Errorf("%s: kept aside %q", c.name, got)
			}
		}
		screenshot(t, tb, "webui-notice.png")
		// What could be read is shown: the answer its tab never finished as such, the empty
		// one not at all.
		shown := evalJS[[]string](t, tb, `[...document.querySelectorAll("#messages .msg")].map(m => m.querySelector(".content").textContent + "/" + m.querySelector(".stats").textContent)`)
		if fmt.Sprint(shown) != fmt.Sprint([]string{"Once upon a time/", ", there was/unfinished", "And then?/"}) {
			t.Fatalf("kept chat shown as %q", shown)
		}
		// Two questions in a row (the answer between them never came) go as one turn.
		recordRequests(t, tb)
		tb.ask(t, "stories", "Go on", 8)
		want := []chatMessage{{"user", "Once upon a time"}, {"assistant", ", there was"}, {"user", "And then?\n\nGo on"}}
		if got := sentMessages(t, tb); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("the page sent %q, want %q", got, want)
		}
		if errs := tb.consoleErrors(false); len(errs) > 0 {
			t.Errorf("page errors: %q", errs)
		}
	})

	t.Run("model output is shown as text", func(t *testing.T) {
		const evil = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold</b>`
		tb := newTab(t, browser)
		chats, _ := json.Marshal([]map[string]any{{"id": "x1", "title": evil, "system": "", "updated": 1,
			"messages": []map[string]string{{"role": "user", "content": evil}, {"role": "assistant", "content": evil}}}})
		tb.do(t, chromedp.Navigate(s.url+"/"), poll(pageReady))
		evalJS[chromedp.Void](t, tb, fmt.Sprintf(`localStorage.setItem("olm.chats", %q); localStorage.setItem("olm.current", '"x1"'); 0`, chats))
		tb.do(t, chromedp.Reload(), poll(pageReady), poll(lastAnswer+` !== null`))
		noHTML(t, tb, evil, "#messages .content, #chats .open")

	})

	// A fake server answers the chat request as the test says; everything else (the page,
	// the model list) goes to the real olm serve.
	fake := newFakeChat(t, s)

	t.Run("streamed model output is shown as text", func(t *testing.T) {
		const evil = `Here: <img src=x onerror="window.pwned=3"><script>window.pwned=4</script>`
		fake.answer(func(w http.ResponseWriter) {
			sse(w, `{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`)
			// Pieces that cut the tags apart, as tokens do.
			for _, piece := range []string{"Here: <img src=x ", `onerror="window.pwned=3">`, "<scr", "ipt>window.pwned=4</script>"} {
				b, _ := json.Marshal(piece)
				sse(w, `{"choices":[{"index":0,"delta":{"content":`+string(b)+`}}]}`)
			}
			sse(w, `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`)
			sse(w, `{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}`)
			sse(w, `[DONE]`)
		})
		tb := newTab(t, browser)
		tb.do(t, chromedp.Navigate(fake.URL+"/"), poll(pageReady))
		tb.ask(t, "stories", "Say something nasty", 8)
		if got := evalJS[string](t, tb, lastAnswer+`.querySelector(".content").textContent`); got != evil {
			t.Fatalf("streamed answer shown as %q, want %q", got, evil)
		}
		noHTML(t, tb, evil, "#messages .msg.assistant .content")
		if stats := evalJS[string](t, tb, lastAnswer+`.querySelector(".stats").textContent`); !strings.Contains(stats, "context 9 of 4096 tokens") {
			t.Errorf("stats %q: not the stream's usage", stats)
		}
	})

	t.Run("errors are shown with the API's message", func(t *testing.T) {
		tb := newTab(t, browser)
		banner := `document.getElementById("banner").hidden ? "" : document.getElementById("banner-text").textContent`
		sendAndWaitBanner := func(model string) string {
			t.Helper()
			tb.do(t, chromedp.SetValue(chromedp.ID("model"), model), chromedp.SetValue(chromedp.ID("input"), "Once upon a time"),
				chromedp.Click(chromedp.ID("send")), poll(`(`+banner+`) !== "" && !document.getElementById("send").hidden`))
			return evalJS[string](t, tb, banner)
		}

		// A model whose file broke after it was imported fails to load.
		broken := filepath.Join(t.TempDir(), "broken.gguf")
		b, err := os.ReadFile(realmodel.Stories260K(t))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(broken, b, 0o644)
		mustRun(t, "", "import", broken, "--name", "broken")
		os.WriteFile(broken, b[:len(b)/2], 0o644)
		resp, err := http.Post(s.url+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"broken","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		var apiErr struct{ Error struct{ Message string } }
		json.NewDecoder(resp.Body).Decode(&apiErr)
		resp.Body.Close()
		if resp.StatusCode < 400 || apiErr.Error.Message == "" {
			t.Fatalf("loading the cut model: %d %+v", resp.StatusCode, apiErr)
		}
		tb.do(t, chromedp.Navigate(s.url+"/"), poll(pageReady), poll(`[...document.querySelectorAll("#model option")].some(o => o.value === "broken")`))
		got := sendAndWaitBanner("broken")
		if !strings.Contains(got, apiErr.Error.Message) {
			t.Fatalf("banner %q lacks the API's message %q", got, apiErr.Error.Message)
		}
		t.Logf("a model that fails to load: the page says %q", got)
		// Nothing was answered: the turn is taken back and the text is in the input again.
		if n := evalJS[int](t, tb, `document.querySelectorAll("#messages .msg").length`); n != 0 {
			t.Errorf("%d messages left after a failed turn", n)
		}
		if got := evalJS[string](t, tb, `document.getElementById("input").value`); got != "Once upon a time" {
			t.Errorf("input after a failed turn: %q", got)
		}

		// An error in the middle of a stream keeps what came and says what happened.
		fake.answer(func(w http.ResponseWriter) {
			sse(w, `{"choices":[{"index":0,"delta":{"role":"assistant","content":"Once"}}]}`)
			sse(w, `{"error":{"message":"the model's engine failed: decode: out of memory","type":"server_error"}}`)
		})
		tb.do(t, chromedp.Navigate(fake.URL+"/"), poll(pageReady))
		if got := sendAndWaitBanner("stories"); !strings.Contains(got, "decode: out of memory") {
			t.Fatalf("banner %q after an error event", got)
		}
		if got := evalJS[string](t, tb, lastAnswer+`.querySelector(".stats").textContent`); !strings.Contains(got, "cut off by an error") {
			t.Errorf("answer cut by an error: stats %q", got)
		}
		screenshot(t, tb, "webui-error.png")

		// The server dies in the middle of an answer: its connection breaks.
		fake.answer(func(w http.ResponseWriter) {
			sse(w, `{"choices":[{"index":0,"delta":{"role":"assistant","content":"Once"}}]}`)
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close() // no end of the chunked body: the browser sees the connection break
			}
		})
		if got := sendAndWaitBanner("stories"); !strings.Contains(got, "Cannot reach olm serve") {
			t.Fatalf("banner %q when the server dies mid-answer", got)
		}
		if text, stats := evalJS[string](t, tb, lastAnswer+`.querySelector(".content").textContent`),
			evalJS[string](t, tb, lastAnswer+`.querySelector(".stats").textContent`); text != "Once" || !strings.Contains(stats, "cut off by an error") {
			t.Errorf("answer when the server died mid-answer: %q, stats %q", text, stats)
		}

		// The server goes away.
		fake.Close()
		if got := sendAndWaitBanner("stories"); !strings.Contains(got, "Cannot reach olm serve") {
			t.Fatalf("banner %q with the server down", got)
		}
		if errs := tb.consoleErrors(false); len(errs) > 0 {
			t.Errorf("page errors: %q", errs)
		}
	})
}

// noHTML: the elements sel names show evil as their text, and nothing of it became markup
// or ran.
func noHTML(t *testing.T, tb *tab, evil, sel string) {
	t.Helper()
	texts := evalJS[[]string](t, tb, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.textContent)`, sel))
	if len(texts) == 0 {
		t.Fatalf("nothing matches %s", sel)
	}
	for _, s := range texts {
		if !strings.Contains(s, evil) {
			t.Errorf("shown as %q, want the text %q", s, evil)
		}
	}
	if n := evalJS[int](t, tb, `document.querySelectorAll("#messages img, #messages script, #messages b, #chats img, #chats b").length`); n != 0 {
		t.Errorf("%d elements made from model text", n)
	}
	if v := evalJS[string](t, tb, `String(window.pwned)`); v != "undefined" {
		t.Errorf("model text ran as script: window.pwned = %s", v)
	}
}

func sse(w http.ResponseWriter, data string) {
	fmt.Fprintf(w, "data: %s\n\n", data)
	w.(http.Flusher).Flush()
}

// fakeChat proxies to the real olm serve, except POST /v1/chat/completions, which the
// test answers.
type fakeChat struct {
	*httptest.Server
	mu sync.Mutex
	fn func(w http.ResponseWriter)
}

func newFakeChat(t *testing.T, s *served) *fakeChat {
	t.Helper()
	u, _ := url.Parse(s.url)
	f := &fakeChat{}
	mux := http.NewServeMux()
	mux.Handle("/", httputil.NewSingleHostReverseProxy(u))
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		fn := f.fn
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fn(w)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeChat) answer(fn func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fn = fn
}

// TestWebUIAPIKey: against olm serve --api-key the page loads without the key, asks for it
// once (again when it is refused), keeps it, and sends it.
func TestWebUIAPIKey(t *testing.T) {
	browser := newBrowser(t)
	s := startServe(t, func(o *serveOptions) { o.apiKey = "sekrit" })
	for _, c := range []struct {
		path, accept string
		status       int
	}{
		{"/", "text/html", 200},          // the page holds no data
		{"/webui/app.js", "", 200},       // nor do its files
		{"/", "", 401},                   // the plain answer stays behind the key, as before
		{"/webui/secret.txt", "", 401},   // only the page's own files are open
		{"/v1/models", "text/html", 401}, // and the API is not
	} {
		req, _ := http.NewRequest("GET", s.url+c.path, nil)
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("GET %s (Accept %q) without the key: %d, want %d", c.path, c.accept, resp.StatusCode, c.status)
		}
	}

	tb := newTab(t, browser)
	tb.do(t, chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(chromedp.ID("api-key")),
		chromedp.SetValue(chromedp.ID("api-key"), "wrong"), chromedp.Click(chromedp.ID("key-save")),
		poll(`!document.getElementById("key-dialog").hidden && document.getElementById("key-message").textContent.includes("refused")`),
	)
	screenshot(t, tb, "webui-key.png")
	tb.do(t,
		chromedp.SetValue(chromedp.ID("api-key"), "sekrit"), chromedp.Click(chromedp.ID("key-save")),
		poll(pageReady), chromedp.WaitNotVisible(chromedp.ID("key-dialog")))
	tb.ask(t, "stories", "Once upon a time", 8)
	if stats := evalJS[string](t, tb, lastAnswer+`.querySelector(".stats").textContent`); !strings.Contains(stats, "8 tokens") {
		t.Fatalf("answer with the key: stats %q", stats)
	}
	// Kept: a reload asks no more.
	tb.do(t, chromedp.Reload(), poll(pageReady))
	if shown := evalJS[bool](t, tb, `!document.getElementById("key-dialog").hidden`); shown {
		t.Fatal("the key was asked for again after a reload")
	}
	if key := evalJS[string](t, tb, `JSON.parse(localStorage.getItem("olm.apiKey"))`); key != "sekrit" {
		t.Fatalf("stored key %q", key)
	}
	if errs := tb.consoleErrors(false); len(errs) > 0 {
		t.Errorf("page errors: %q", errs)
	}
}
