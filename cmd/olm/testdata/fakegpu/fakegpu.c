// A fake ggml GPU backend for olm's tests: it registers one device that
// reports itself as a GPU, so the loader, the device listing and the log
// routing can be tested on machines without one. It computes nothing.
#include <string.h>
#include "ggml-backend-impl.h"

void fake_log_info(const char *text); // from the fake libggml-base.so

static const char *dev_name(ggml_backend_dev_t dev) { (void)dev; return "FAKE0"; }
static const char *dev_desc(ggml_backend_dev_t dev) { (void)dev; return "olm test GPU"; }
static void dev_memory(ggml_backend_dev_t dev, size_t *free, size_t *total) {
	(void)dev;
	*free = (size_t)6 << 30;
	*total = (size_t)8 << 30;
}
static enum ggml_backend_dev_type dev_type(ggml_backend_dev_t dev) { (void)dev; return GGML_BACKEND_DEVICE_TYPE_GPU; }
static void dev_props(ggml_backend_dev_t dev, struct ggml_backend_dev_props *p) {
	memset(p, 0, sizeof(*p));
	p->name = dev_name(dev);
	p->description = dev_desc(dev);
	dev_memory(dev, &p->memory_free, &p->memory_total);
	p->type = dev_type(dev);
}
static bool no_op(ggml_backend_dev_t dev, const struct ggml_tensor *op) { (void)dev; (void)op; return false; }
static bool no_buft(ggml_backend_dev_t dev, ggml_backend_buffer_type_t b) { (void)dev; (void)b; return false; }

static struct ggml_backend_device device;

static const char *reg_name(ggml_backend_reg_t reg) { (void)reg; return "FAKE"; }
static size_t reg_count(ggml_backend_reg_t reg) { (void)reg; return 1; }
static ggml_backend_dev_t reg_dev(ggml_backend_reg_t reg, size_t i) { (void)reg; (void)i; return &device; }

static struct ggml_backend_reg reg = {
	.api_version = GGML_BACKEND_API_VERSION,
	.iface = {.get_name = reg_name, .get_device_count = reg_count, .get_device = reg_dev},
};

__attribute__((visibility("default"))) ggml_backend_reg_t ggml_backend_init(void) {
	device.iface.get_name = dev_name;
	device.iface.get_description = dev_desc;
	device.iface.get_memory = dev_memory;
	device.iface.get_type = dev_type;
	device.iface.get_props = dev_props;
	device.iface.supports_op = no_op;
	device.iface.supports_buft = no_buft;
	device.reg = &reg;
	fake_log_info("fake_gpu_init: found 1 fake GPU\n");
	return &reg;
}

__attribute__((visibility("default"))) int ggml_backend_score(void) { return 1; }
