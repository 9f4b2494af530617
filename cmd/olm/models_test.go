package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/olm-dev/olm/download/hftest"
)

const (
	tinyRepo  = "olm-test/tiny-GGUF"
	tinyFile  = "tiny.Q8_0.gguf"
	tinyName  = "hf.co/" + tinyRepo + ":" + tinyFile
	gatedRepo = "olm-test/gated-GGUF"
	// The catalog's tinyllama entry; the fake hub serves the tiny model under its name.
	catRepo = "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF"
	catFile = "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf"
)

// modelEnv points olm at endpoint and at empty caches: the one place model tests set
// the environment, so no test sees the developer's caches or token.
func modelEnv(t testing.TB, endpoint string) (hubCache, olmHome string) {
	t.Helper()
	dir := t.TempDir()
	hubCache, olmHome = filepath.Join(dir, "hub"), filepath.Join(dir, "olm")
	for k, v := range map[string]string{
		"HF_ENDPOINT":    endpoint,
		"HF_HUB_CACHE":   hubCache,
		"HF_HOME":        filepath.Join(dir, "hf"),
		"OLM_HOME":       olmHome,
		"OLLAMA_MODELS":  filepath.Join(dir, "ollama"),
		"HF_TOKEN":       "",
		"HF_HUB_OFFLINE": "",
	} {
		t.Setenv(k, v)
	}
	return hubCache, olmHome
}

var tinyOnce = sync.OnceValues(func() ([]byte, error) { return os.ReadFile(tinyModel) })

func tinyBytes(t testing.TB) []byte {
	t.Helper()
	b, err := tinyOnce()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeHub serves the tiny model as tinyRepo/tinyFile and as the catalog's tinyllama.
func fakeHub(t testing.TB) (hub *hftest.Hub, hubCache, olmHome string) {
	t.Helper()
	hub = hftest.New(t)
	hub.Add(tinyRepo, tinyFile, tinyBytes(t))
	hub.Add(catRepo, catFile, tinyBytes(t))
	hubCache, olmHome = modelEnv(t, hub.URL())
	return hub, hubCache, olmHome
}

// runOLMContext is runOLM with a context the test can cancel, as Ctrl-C does.
func runOLMContext(ctx context.Context, t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	ios := &ioStreams{In: strings.NewReader(stdin), Out: &out, Err: &errb}
	code = execute(ctx, ios, args)
	return out.String(), errb.String(), code
}

// mustRun runs a command that must succeed.
func mustRun(t testing.TB, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	out, errOut, code := runOLM(t, stdin, args...)
	if code != 0 {
		t.Fatalf("olm %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out, errOut
}

// mustFail runs a command that must fail with a one-line error containing every want.
func mustFail(t *testing.T, args []string, want ...string) string {
	t.Helper()
	_, errOut, code := runOLM(t, "", args...)
	if code != 1 {
		t.Fatalf("olm %s: exit %d, want 1; stderr %q", strings.Join(args, " "), code, errOut)
	}
	if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
		t.Errorf("error is %d lines, want one: %q", n+1, errOut)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("error %q does not mention %q", errOut, w)
		}
	}
	return errOut
}

// TestPullListShowRunRemove walks a model through its life against the fake hub.
func TestPullListShowRunRemove(t *testing.T) {
	hub, hubCache, _ := fakeHub(t)
	data := tinyBytes(t)

	out, errOut := mustRun(t, "", "pull", "hf.co/"+tinyRepo)
	path := strings.TrimSpace(out)
	commit := hub.Commit(tinyRepo)
	repoDir := filepath.Join(hubCache, "models--olm-test--tiny-GGUF")
	if want := filepath.Join(repoDir, "snapshots", commit, tinyFile); path != want {
		t.Fatalf("pull printed %q, want %q", path, want)
	}
	if !strings.Contains(errOut, "sha256 verified") {
		t.Errorf("pull summary %q does not say the file was verified", errOut)
	}
	// The layout huggingface_hub reads: a relative link into blobs/<sha256>, refs/main.
	sum := tinySHA(t)
	if tgt, err := os.Readlink(path); err != nil || tgt != "../../blobs/"+sum {
		t.Errorf("snapshot link -> %q (%v), want ../../blobs/%s", tgt, err, sum)
	}
	if ref, _ := os.ReadFile(filepath.Join(repoDir, "refs", "main")); string(ref) != commit {
		t.Errorf("refs/main holds %q, want %q", ref, commit)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatal("pulled bytes differ from the hub's")
	}

	// A second pull downloads nothing.
	hub.ResetRequests()
	_, errOut = mustRun(t, "", "pull", tinyName)
	if !strings.Contains(errOut, "already downloaded") || len(hub.Requests(hftest.CDN)) != 0 {
		t.Errorf("second pull: %q, %d CDN requests", errOut, len(hub.Requests(hftest.CDN)))
	}

	out, _ = mustRun(t, "", "list")
	if !strings.Contains(out, tinyName) || !strings.Contains(out, "q8_0") || !strings.Contains(out, path) {
		t.Errorf("list lacks the pulled model:\n%s", out)
	}
	out, _ = mustRun(t, "", "list", "--json")
	var locals []localJSON
	if err := json.Unmarshal([]byte(out), &locals); err != nil || len(locals) != 1 ||
		locals[0].Name != tinyName || locals[0].Size != int64(len(data)) || locals[0].Source != "hf" {
		t.Errorf("list --json: %v %+v", err, locals)
	}

	out, _ = mustRun(t, "", "show", tinyName)
	for _, want := range []string{"architecture", "llama", "parameters", "quantization", "context length",
		"chat template", path, "memory", "fits in RAM"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	hub.ResetRequests()
	out, errOut = mustRun(t, "", "run", tinyName, "Hello", "-n", "4", "--temp", "0")
	if out == "" || errOut != "" {
		t.Errorf("run by name: stdout %q, stderr %q", out, errOut)
	}
	if n := len(hub.Requests(hftest.API)) + len(hub.Requests(hftest.CDN)); n != 0 {
		t.Errorf("running a pulled model made %d hub requests", n)
	}

	out, _ = mustRun(t, "", "rm", tinyName)
	if !strings.Contains(out, "removed "+tinyName) || !strings.Contains(out, "1 blob(s) deleted") {
		t.Errorf("rm said %q", out)
	}
	if _, err := os.Stat(repoDir); !os.IsNotExist(err) {
		t.Errorf("repo folder left after removing its only model: %v", err)
	}
	_, errOut = mustRun(t, "", "list")
	if !strings.Contains(errOut, "no local models") {
		t.Errorf("list after rm: %q", errOut)
	}
	mustFail(t, []string{"rm", tinyName}, "not downloaded")
}

// tinySHA is the sha256 of the tiny model: the blob name of every tiny file.
func tinySHA(t *testing.T) string {
	t.Helper()
	sum := sha256.Sum256(tinyBytes(t))
	return hex.EncodeToString(sum[:])
}

// TestRemoveKeepsSharedBlob: two snapshot entries link one blob; removing one keeps it.
func TestRemoveKeepsSharedBlob(t *testing.T) {
	hub, _, _ := fakeHub(t)
	hub.Add(tinyRepo, "copy.Q4_K_M.gguf", tinyBytes(t))
	mustRun(t, "", "pull", tinyName)
	mustRun(t, "", "pull", "hf.co/"+tinyRepo+":Q4_K_M")

	out, _ := mustRun(t, "", "rm", "hf.co/"+tinyRepo+":copy.Q4_K_M.gguf")
	if !strings.Contains(out, "kept blob "+tinySHA(t)) || !strings.Contains(out, "0 blob(s) deleted") {
		t.Errorf("rm of a shared blob said %q", out)
	}
	out, _ = mustRun(t, "", "run", tinyName, "Hello", "-n", "4", "--temp", "0")
	if out == "" {
		t.Error("the other model no longer runs")
	}
}

// TestRunPullsImplicitly: olm run hf.co/OWNER/REPO fetches the model first.
func TestRunPullsImplicitly(t *testing.T) {
	_, hubCache, _ := fakeHub(t)
	out, errOut, code := runOLM(t, "", "run", "hf.co/"+tinyRepo, "Hello", "-n", "4", "--temp", "0")
	if code != 0 || out == "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "pulling "+tinyName) {
		t.Errorf("stderr %q does not say it pulled", errOut)
	}
	if strings.Contains(out, "pulling") {
		t.Error("pull progress went to stdout")
	}
	if ls, _ := filepath.Glob(filepath.Join(hubCache, "models--*", "snapshots", "*", tinyFile)); len(ls) != 1 {
		t.Errorf("snapshot files %v", ls)
	}
}

// TestCatalogModel pulls a catalog name (served by the fake hub under the catalog's repo).
func TestCatalogModel(t *testing.T) {
	fakeHub(t)
	out, _ := mustRun(t, "", "catalog")
	for _, want := range []string{"mistral-7b-instruct-v0.2:q4_k_m", "tinyllama-1.1b-chat:q4_k_m", "NAME"} {
		if !strings.Contains(out, want) {
			t.Errorf("catalog lacks %q", want)
		}
	}
	// The catalog's size and hash are of the real file: the pull warns and trusts the hub.
	out, errOut := mustRun(t, "", "pull", "tinyllama")
	if !strings.Contains(errOut, "warning") || !strings.HasSuffix(strings.TrimSpace(out), catFile) {
		t.Errorf("pull tinyllama: stdout %q, stderr %q", out, errOut)
	}
	out, _ = mustRun(t, "", "catalog", "--json")
	var rows []catalogJSON
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if r.Name == "tinyllama-1.1b-chat:q4_k_m" {
			found = r.Local && r.Default && r.Path != ""
		} else if r.Local {
			t.Errorf("%s marked local", r.Name)
		}
	}
	if !found {
		t.Error("catalog --json does not show tinyllama as local")
	}
	rm, err := resolveModel(context.Background(), &ioStreams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, "tinyllama")
	if err != nil || rm.Template != "zephyr" || rm.Name != "tinyllama-1.1b-chat:q4_k_m" || !strings.HasSuffix(rm.Path, catFile) {
		t.Errorf("resolveModel(tinyllama) = %+v, %v", rm, err)
	}
}

func TestUnknownNameSuggests(t *testing.T) {
	fakeHub(t)
	mustFail(t, []string{"run", "mistrl", "hi"}, "did you mean", "mistral")
	mustFail(t, []string{"pull", "tinylama"}, "did you mean", "tinyllama")
	mustFail(t, []string{"pull", "tinyllama:q9_z"}, "available", "q4_k_m")
	mustFail(t, []string{"pull", "hf.co/nobody/nothing"}, "not found on Hugging Face", "nobody/nothing")
	mustFail(t, []string{"pull", "hf.co/" + tinyRepo + ":missing.Q4_0.gguf"}, "not found on Hugging Face", "missing.Q4_0.gguf")
}

func TestOfflineMissingModel(t *testing.T) {
	hub, _, _ := fakeHub(t)
	mustFail(t, []string{"pull", "--offline", "tinyllama"}, "offline", "olm import")
	t.Setenv("HF_HUB_OFFLINE", "1")
	mustFail(t, []string{"run", tinyName, "hi"}, "offline", "olm import")
	mustFail(t, []string{"show", "--remote", tinyName}, "offline")
	if n := len(hub.Requests(hftest.API)); n != 0 {
		t.Errorf("offline commands made %d API requests", n)
	}
}

func TestOfflineUsesCache(t *testing.T) {
	hub, _, _ := fakeHub(t)
	want, _ := mustRun(t, "", "pull", tinyName)
	hub.ResetRequests()
	out, errOut := mustRun(t, "", "pull", "--offline", "hf.co/"+tinyRepo)
	if out != want || !strings.Contains(errOut, "not checked against Hugging Face") {
		t.Errorf("offline pull of a cached model: stdout %q, stderr %q", out, errOut)
	}
	if n := len(hub.Requests(hftest.API)); n != 0 {
		t.Errorf("--offline made %d API requests", n)
	}
}

func TestUnreachableHub(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	modelEnv(t, "http://"+addr)
	for _, args := range [][]string{{"run", "tinyllama", "hi"}, {"run", "hf.co/" + tinyRepo, "hi"}, {"pull", "mistral"}} {
		mustFail(t, args, "cannot reach Hugging Face", addr, "olm import", "olm bench --synthetic")
	}
}

// TestGatedRepoThenLogin: a gated repo says how to get in; olm login stores a token
// (never printed, mode 0600) that the next pull sends to the hub but not to the CDN.
func TestGatedRepoThenLogin(t *testing.T) {
	const secret = "hf_testsecret123"
	hub, _, olmHome := fakeHub(t)
	hub.Add(gatedRepo, tinyFile, tinyBytes(t))
	hub.Gate(gatedRepo, secret)

	mustFail(t, []string{"pull", "hf.co/" + gatedRepo}, "gated", "olm login", "HF_TOKEN")
	mustFail(t, []string{"show", "--remote", "hf.co/" + gatedRepo + ":" + tinyFile}, "gated")

	out, errOut := mustRun(t, secret+"\n", "login")
	if strings.Contains(out+errOut, secret) {
		t.Fatalf("login printed the token: %q %q", out, errOut)
	}
	st, err := os.Stat(filepath.Join(olmHome, "token"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v", err, st.Mode())
	}

	hub.ResetRequests()
	out, errOut = mustRun(t, "", "pull", "hf.co/"+gatedRepo)
	if !strings.HasSuffix(strings.TrimSpace(out), tinyFile) || strings.Contains(out+errOut, secret) {
		t.Errorf("pull after login: stdout %q, stderr %q", out, errOut)
	}
	for _, r := range hub.Requests(hftest.CDN) {
		if r.Authorization != "" {
			t.Errorf("the CDN got an Authorization header: %s %s", r.Method, r.Path)
		}
	}
	sawToken := false
	for _, r := range hub.Requests(hftest.API) {
		sawToken = sawToken || r.Authorization == "Bearer "+secret
	}
	if !sawToken {
		t.Error("the stored token never reached the hub")
	}

	mustFail(t, []string{"login", "--token", "two words"}, "spaces")
	_, _, code := runOLM(t, "", "login")
	if code == 0 {
		t.Error("login with empty stdin succeeded")
	}
}

func TestShowRemoteReadsOnlyTheHeader(t *testing.T) {
	hub, hubCache, _ := fakeHub(t)
	mustFail(t, []string{"show", tinyName}, "not downloaded", "olm show --remote")
	out, _ := mustRun(t, "", "show", "--remote", tinyName, "--ctx", "512")
	for _, want := range []string{"architecture", "llama", "the header only", "at 512 tokens", "fits in RAM"} {
		if !strings.Contains(out, want) {
			t.Errorf("show --remote lacks %q:\n%s", want, out)
		}
	}
	for _, r := range hub.Requests(hftest.CDN) {
		if r.Range == "" {
			t.Errorf("CDN request without Range: %s %s", r.Method, r.Path)
		}
	}
	if ls, _ := filepath.Glob(filepath.Join(hubCache, "*")); len(ls) != 0 {
		t.Errorf("show --remote wrote to the cache: %v", ls)
	}
}

func TestImportRunRemove(t *testing.T) {
	fakeHub(t)
	out, _ := mustRun(t, "", "import", tinyModel, "--name", "mytiny")
	if !strings.Contains(out, "imported mytiny") {
		t.Errorf("import said %q", out)
	}
	out, _ = mustRun(t, "", "list", "--json")
	if !strings.Contains(out, `"source": "import"`) || !strings.Contains(out, tinyModel) {
		t.Errorf("list --json after import:\n%s", out)
	}
	if out, _ = mustRun(t, "", "run", "mytiny", "Hello", "-n", "4", "--temp", "0"); out == "" {
		t.Error("run of an import generated nothing")
	}
	out, _ = mustRun(t, "", "rm", "mytiny")
	if !strings.Contains(out, "forgot mytiny") {
		t.Errorf("rm said %q", out)
	}
	if _, err := os.Stat(tinyModel); err != nil {
		t.Fatalf("rm of an import touched the file: %v", err)
	}
	// Without --name, the file name is the name.
	out, _ = mustRun(t, "", "import", tinyModel)
	if !strings.Contains(out, "imported tiny:") {
		t.Errorf("import without --name said %q", out)
	}
	mustFail(t, []string{"import", filepath.Join(t.TempDir(), "nope.gguf")}, "nope.gguf")
}
