// olm_grammar_check parses GBNF with llama.cpp's own parser, as llama_sampler_init_grammar
// will, but returns the reason for a failure instead of printing it to stderr (where
// llama.cpp's parser writes it, with the whole grammar after it).
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "llama-grammar.h"

// skip_space mirrors the parser's leading-space rule: blanks, newlines and # comments.
static const char * skip_space(const char * p) {
    while (*p) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            p++;
        } else if (*p == '#') {
            while (*p && *p != '\n' && *p != '\r') {
                p++;
            }
        } else {
            break;
        }
    }
    return p;
}

static char * dup(const std::string & s) {
    char * p = static_cast<char *>(malloc(s.size() + 1));
    if (p != nullptr) {
        memcpy(p, s.c_str(), s.size() + 1);
    }
    return p;
}

// It also checks what llama.cpp checks later in a way that cannot be reported: a "root"
// rule must exist whatever the start rule is, and a missing start rule would throw
// std::out_of_range through the C API (an abort).
extern "C" char * olm_grammar_check(const char * src, const char * root, const struct llama_vocab * vocab) {
    try {
        llama_grammar_parser parser(vocab);
        const char * pos = skip_space(src);
        while (*pos) {
            pos = parser.parse_rule(pos);
        }
        for (const auto & rule : parser.rules) {
            for (const auto & elem : rule) {
                if (elem.type != LLAMA_GRETYPE_RULE_REF) {
                    continue;
                }
                if (elem.value >= parser.rules.size() || parser.rules[elem.value].empty()) {
                    for (const auto & kv : parser.symbol_ids) {
                        if (kv.second == elem.value) {
                            return dup("undefined rule '" + kv.first + "'");
                        }
                    }
                    return dup("a rule is used but never defined");
                }
            }
        }
        for (const std::string name : { std::string("root"), std::string(root) }) {
            auto it = parser.symbol_ids.find(name);
            if (it == parser.symbol_ids.end() || it->second >= parser.rules.size() || parser.rules[it->second].empty()) {
                return dup("no rule '" + name + "' (generation starts from it)");
            }
        }
        return nullptr;
    } catch (const std::exception & e) {
        return dup(e.what());
    } catch (...) {
        return dup("llama.cpp's grammar parser failed");
    }
}
