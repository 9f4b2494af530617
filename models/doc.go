// Package models knows which models exist, where their files are and what is
// inside them. It prints nothing: every function returns data for the cmd
// layer to render.
//
// Catalog (catalog.json, embedded; facts from shared/catalog-facts.md):
//
//	cat, err := models.LoadCatalog()
//	m, ok := cat.Lookup("mistral")             // id or alias -> *Model
//	rows := cat.Rows(env.Store())              // olm catalog: quants, sizes, local or not
//
// Names:
//
//	r := models.Resolver{Catalog: cat, Env: env, Lister: hub} // Lister nil = offline
//	ref, err := r.Resolve(ctx, "mistral:q5_k_m")
//	// also hf.co/OWNER/REPO[:QUANT|:FILE.gguf], OWNER/REPO, ./x.gguf,
//	// an `olm import` name, ollama:NAME[:TAG]. Errors are one line with a fix
//	// ("did you mean ...", "available q4_0, q4_k_m, ...").
//
// Paths (nothing reads the environment except EnvFromOS):
//
//	env, err := models.EnvFromOS() // HF_HUB_CACHE | HF_HOME/hub | ~/.cache/huggingface/hub,
//	                               // OLM_HOME | $XDG_DATA_HOME/olm | ~/.local/share/olm,
//	                               // OLLAMA_MODELS | ~/.ollama/models
//
// Hub cache (shared with huggingface_hub, hf download, llama.cpp -hf):
//
//	st := env.Store()
//	path, err := st.Lookup(repo, rev, file)    // ErrNotLocal if absent
//	pulled, err := models.Pull(ctx, st, ref, hub, progress)
//	removed, err := models.Remove(env, ref)    // keeps blobs other snapshots link
//
// Local models and imports:
//
//	imp, err := models.Import(env, "/data/x.gguf", "my-model") // in place, no copy
//	locals, err := models.List(env, cat)       // hub cache + imports + ollama
//
// Inside a GGUF:
//
//	info, err := models.Inspect(path)          // arch, params, quant, template, bos/eos
//	info, err := models.InspectRemote(ctx, url, models.RemoteOptions{Token: tok})
//	mem := info.Memory(4096)                   // weights + f16 KV cache
//	fit, err := models.CheckFit(info, 4096, env.MemInfo)
//
// Pull needs a Hub (list, resolve, fetch): pass a *download.Client, or a fake
// in tests.
package models
