// llama.cpp's JSON-Schema-to-GBNF converter, compiled from the pinned module's own source,
// behind a C function that never lets a C++ exception cross into Go.
//
// The module's Go package for llama.cpp/common cannot be linked: Go module zips drop
// vendor/ directories, so the nlohmann/json headers it includes are missing from the
// module cache. We compile the one file we need here, with a copy of those headers in
// third_party/nlohmann, and define the three string helpers of common.cpp it calls.

#include "../third_party/ollama/llama/llama.cpp/common/json-schema-to-grammar.cpp"

#include <cstdlib>
#include <cstring>
#include <exception>

#include "schema.h"

std::string string_join(const std::vector<std::string> & values, const std::string & sep) {
    std::string out;
    for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) {
            out += sep;
        }
        out += values[i];
    }
    return out;
}

std::vector<std::string> string_split(const std::string & str, const std::string & delim) {
    std::vector<std::string> parts;
    size_t from = 0;
    for (size_t at; (at = str.find(delim, from)) != std::string::npos; from = at + delim.size()) {
        parts.push_back(str.substr(from, at - from));
    }
    parts.push_back(str.substr(from));
    return parts;
}

std::string string_repeat(const std::string & str, size_t n) {
    std::string out;
    out.reserve(str.size() * n);
    for (size_t i = 0; i < n; ++i) {
        out += str;
    }
    return out;
}

static char * dup(const std::string & s) {
    char * p = static_cast<char *>(malloc(s.size() + 1));
    if (p != nullptr) {
        memcpy(p, s.c_str(), s.size() + 1);
    }
    return p;
}

extern "C" char * olm_schema_to_grammar(const char * schema, size_t len, int * ok) {
    *ok = 0;
    try {
        auto j = nlohmann::ordered_json::parse(schema, schema + len);
        std::string g = json_schema_to_grammar(j, true);
        *ok = 1;
        return dup(g);
    } catch (const nlohmann::json::exception & e) {
        return dup(std::string("not valid JSON: ") + e.what());
    } catch (const std::exception & e) {
        return dup(e.what());
    } catch (...) {
        return dup("unknown error in the JSON Schema converter");
    }
}
