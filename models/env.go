package models

import (
	"errors"
	"os"
	"path/filepath"
)

// Env holds every path the package touches. Functions take it explicitly so
// tests (and the cmd layer) decide where things live; nothing here reads the
// process environment except EnvFromOS.
type Env struct {
	HubCache     string // Hugging Face hub cache root (models--OWNER--REPO/...)
	OlmHome      string // olm's own state: import registry
	OllamaModels string // ollama's models dir (manifests/, blobs/); may not exist
	MemInfo      string // file with MemTotal, normally /proc/meminfo
}

// EnvFromOS resolves the paths the way huggingface_hub, ollama and the XDG
// spec do, so olm shares caches with those tools instead of copying.
func EnvFromOS() (Env, error) {
	home, err := os.UserHomeDir()
	if err != nil && (os.Getenv("HF_HUB_CACHE") == "" || os.Getenv("OLM_HOME") == "") {
		return Env{}, errors.New("cannot find the home directory: set HOME, or HF_HUB_CACHE and OLM_HOME")
	}
	e := Env{MemInfo: "/proc/meminfo"}
	switch {
	case os.Getenv("HF_HUB_CACHE") != "":
		e.HubCache = os.Getenv("HF_HUB_CACHE")
	case os.Getenv("HF_HOME") != "":
		e.HubCache = filepath.Join(os.Getenv("HF_HOME"), "hub")
	case os.Getenv("XDG_CACHE_HOME") != "":
		e.HubCache = filepath.Join(os.Getenv("XDG_CACHE_HOME"), "huggingface", "hub")
	default:
		e.HubCache = filepath.Join(home, ".cache", "huggingface", "hub")
	}
	switch {
	case os.Getenv("OLM_HOME") != "":
		e.OlmHome = os.Getenv("OLM_HOME")
	case os.Getenv("XDG_DATA_HOME") != "":
		e.OlmHome = filepath.Join(os.Getenv("XDG_DATA_HOME"), "olm")
	default:
		e.OlmHome = filepath.Join(home, ".local", "share", "olm")
	}
	if d := os.Getenv("OLLAMA_MODELS"); d != "" {
		e.OllamaModels = d
	} else if home != "" {
		e.OllamaModels = filepath.Join(home, ".ollama", "models")
	}
	return e, nil
}

// Store returns the hub cache at e.HubCache.
func (e Env) Store() Store { return Store{Root: e.HubCache} }
