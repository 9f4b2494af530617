package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/olm-dev/olm/chat/tools"
	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/runner"
)

// apiError is an error with the HTTP status, and for OpenAI clients the param and code,
// it should be answered with.
type apiError struct {
	status int
	msg    string
	param  string
	code   string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...), param: param}
}

// errNoMemory: loading a model would pass the memory budget even with idle models unloaded.
var errNoMemory = errors.New("not enough memory")

// classify maps an error from the engine, the library or the request to what is answered.
func classify(err error) *apiError {
	var ae *apiError
	var ce *engine.ContextError
	var mbe *http.MaxBytesError
	var ge *runner.GrammarError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, tools.ErrNoTools):
		return &apiError{status: http.StatusBadRequest, param: "tools",
			msg: fmt.Sprintf("%v: send the request without tools, or use a model whose template takes them (olm show says)", err)}
	case errors.As(err, &ge):
		return &apiError{status: http.StatusBadRequest, msg: err.Error(), param: "response_format"}
	case errors.As(err, &mbe):
		return &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body over %d bytes", mbe.Limit)}
	case errors.Is(err, ErrUnknownModel), errors.Is(err, ErrNotPulled):
		return &apiError{status: http.StatusNotFound, msg: err.Error(), param: "model", code: "model_not_found"}
	case errors.As(err, &ce):
		return &apiError{status: http.StatusBadRequest, param: "messages", code: "context_length_exceeded",
			msg: fmt.Sprintf("%v: shorten it, start olm serve with a larger --ctx, or ask for truncation", err)}
	case errors.Is(err, engine.ErrQueueFull):
		return &apiError{status: http.StatusServiceUnavailable, msg: "server busy: every slot is taken and the queue is full; retry shortly"}
	case errors.Is(err, errNoMemory):
		return &apiError{status: http.StatusServiceUnavailable, msg: err.Error()}
	case errors.Is(err, context.Canceled):
		return &apiError{status: 499, msg: "request cancelled"}
	}
	return &apiError{status: http.StatusInternalServerError, msg: err.Error()}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// isOpenAI tells the two APIs' error shapes apart.
func isOpenAI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/v1/") }

// writeError answers in the error shape of the API the request used.
func writeError(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	writeAPIError(w, r, &apiError{status: status, msg: fmt.Sprintf(format, args...)})
}

func writeErr(w http.ResponseWriter, r *http.Request, err error) { writeAPIError(w, r, classify(err)) }

func writeAPIError(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if !isOpenAI(r) {
		writeJSON(w, e.status, map[string]string{"error": e.msg})
		return
	}
	typ := "invalid_request_error"
	switch {
	case e.status == http.StatusUnauthorized:
		typ = "authentication_error"
	case e.status == http.StatusNotFound:
		typ = "not_found_error"
	case e.status >= 500:
		typ = "server_error"
	}
	body := map[string]any{"message": e.msg, "type": typ, "param": nil, "code": nil}
	if e.param != "" {
		body["param"] = e.param
	}
	if e.code != "" {
		body["code"] = e.code
	}
	writeJSON(w, e.status, map[string]any{"error": body})
}

func writeAuthError(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="olm"`)
	writeAPIError(w, r, &apiError{status: http.StatusUnauthorized, code: "invalid_api_key",
		msg: "missing or wrong API key: send Authorization: Bearer <the key olm serve was started with>"})
}

// decode reads a JSON body strictly enough to name what is wrong: malformed JSON and wrong
// field types are 400s that say where.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.As(err, &se):
			return badRequest("", "malformed JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return badRequest(te.Field, "field %q: want %s, got JSON %s", te.Field, te.Type, te.Value)
		case errors.Is(err, io.EOF):
			return badRequest("", "empty request body: send a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("", "malformed JSON: the body ends in the middle of a value")
		}
		return badRequest("", "bad JSON: %v", err)
	}
	return nil
}
