// A stand-in for the libggml-base.so that a CMake-built backend links: it
// logs to stderr until ggml_log_set points it elsewhere, as ggml does.
#include <stdio.h>

typedef void (*log_cb)(int level, const char *text, void *user_data);

static log_cb cb;
static void *cb_data;

void ggml_log_set(log_cb c, void *user_data) {
	cb = c;
	cb_data = user_data;
}

void fake_log_info(const char *text) {
	if (cb) {
		cb(2 /* GGML_LOG_LEVEL_INFO */, (char *)text, cb_data);
	} else {
		fputs(text, stderr);
	}
}
