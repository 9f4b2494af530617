#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// olm_schema_to_grammar converts a JSON Schema (UTF-8 JSON text of len bytes) to GBNF. It
// returns a malloc'd string the caller frees: the grammar when *ok is 1, else the reason.
char * olm_schema_to_grammar(const char * schema, size_t len, int * ok);

#ifdef __cplusplus
}
#endif
