package runner

// #include "llama.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// Token is a llama.cpp token id.
type Token = int32

// Tokenize turns text into tokens. addSpecial adds BOS/EOS as the model's metadata asks;
// parseSpecial lets text like "</s>" become control tokens: true for template scaffolding,
// false for anything a user typed.
func (m *Model) Tokenize(text string, addSpecial, parseSpecial bool) ([]Token, error) {
	if m.m == nil {
		return nil, errClosed
	}
	// A token covers at least one byte, plus room for BOS/EOS.
	toks := make([]Token, len(text)+2)
	var ctext *C.char
	if len(text) > 0 {
		ctext = (*C.char)(unsafe.Pointer(unsafe.StringData(text)))
	}
	n := C.llama_tokenize(m.vocab, ctext, C.int32_t(len(text)),
		(*C.llama_token)(unsafe.Pointer(unsafe.SliceData(toks))), C.int32_t(len(toks)),
		C.bool(addSpecial), C.bool(parseSpecial))
	if n < 0 {
		if n == C.INT32_MIN {
			return nil, fmt.Errorf("tokenize: text too long (%d bytes)", len(text))
		}
		toks = make([]Token, -n)
		n = C.llama_tokenize(m.vocab, ctext, C.int32_t(len(text)),
			(*C.llama_token)(unsafe.Pointer(unsafe.SliceData(toks))), C.int32_t(len(toks)),
			C.bool(addSpecial), C.bool(parseSpecial))
		if n < 0 {
			return nil, fmt.Errorf("tokenize: llama.cpp returned %d", n)
		}
	}
	return toks[:n], nil
}

// Piece appends the bytes of one token to buf. Special tokens render as their text only
// when special is true. A piece may be part of a UTF-8 character.
func (m *Model) Piece(buf []byte, t Token, special bool) []byte {
	var tmp [64]byte
	n := C.llama_token_to_piece(m.vocab, C.llama_token(t), (*C.char)(unsafe.Pointer(&tmp[0])), C.int32_t(len(tmp)), 0, C.bool(special))
	if n >= 0 {
		return append(buf, tmp[:n]...)
	}
	big := make([]byte, -n)
	n = C.llama_token_to_piece(m.vocab, C.llama_token(t), (*C.char)(unsafe.Pointer(&big[0])), C.int32_t(len(big)), 0, C.bool(special))
	return append(buf, big[:max(n, 0)]...)
}

// Detokenize turns tokens back into text, dropping BOS/EOS and rendering other special
// tokens only when special is true.
func (m *Model) Detokenize(toks []Token, special bool) string {
	if len(toks) == 0 {
		return ""
	}
	buf := make([]byte, len(toks)*8+16)
	for {
		n := C.llama_detokenize(m.vocab, (*C.llama_token)(unsafe.Pointer(&toks[0])), C.int32_t(len(toks)),
			(*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)), C.bool(true), C.bool(special))
		if n >= 0 {
			return string(buf[:n])
		}
		buf = make([]byte, -n)
	}
}

// IsEOG reports whether t ends generation (EOS, EOT, and the like).
func (m *Model) IsEOG(t Token) bool { return bool(C.llama_vocab_is_eog(m.vocab, C.llama_token(t))) }

// BOS is the beginning-of-sequence token, or -1.
func (m *Model) BOS() Token { return Token(C.llama_vocab_bos(m.vocab)) }

// EOS is the end-of-sequence token, or -1.
func (m *Model) EOS() Token { return Token(C.llama_vocab_eos(m.vocab)) }

// AddsBOS reports whether tokenizing with addSpecial prepends BOS.
func (m *Model) AddsBOS() bool { return bool(C.llama_vocab_get_add_bos(m.vocab)) }

// TokenText is the vocabulary entry of t (for debugging and tests).
func (m *Model) TokenText(t Token) string {
	return C.GoString(C.llama_vocab_get_text(m.vocab, C.llama_token(t)))
}
