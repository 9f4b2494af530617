package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus series, on a registry of its own (no global state).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	promptTokens prometheus.Counter
	genTokens    prometheus.Counter
	ttft         prometheus.Histogram
	tpot         prometheus.Histogram
	modelsLoaded prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "olm_requests_total",
			Help: "HTTP requests by endpoint and status."}, []string{"endpoint", "status"}),
		promptTokens: prometheus.NewCounter(prometheus.CounterOpts{Name: "olm_prompt_tokens_total",
			Help: "Prompt tokens of finished requests (cached ones included)."}),
		genTokens: prometheus.NewCounter(prometheus.CounterOpts{Name: "olm_generated_tokens_total",
			Help: "Tokens generated."}),
		ttft: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "olm_time_to_first_token_seconds",
			Help: "From a request's arrival at its model to its first token.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		tpot: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "olm_time_per_output_token_seconds",
			Help: "Generation time per token after the first.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		modelsLoaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "olm_models_loaded", Help: "Models resident."}),
	}
	m.reg.MustRegister(m.requests, m.promptTokens, m.genTokens, m.ttft, m.tpot, m.modelsLoaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// engineCollector reports each resident model's engine: slots busy, queue depth, cache.
type engineCollector struct{ mg *manager }

var (
	descBusy   = prometheus.NewDesc("olm_slots_busy", "Slots running a request.", []string{"model"}, nil)
	descSlots  = prometheus.NewDesc("olm_slots", "Slots of a resident model.", []string{"model"}, nil)
	descQueue  = prometheus.NewDesc("olm_queue_depth", "Requests waiting for a slot.", []string{"model"}, nil)
	descCached = prometheus.NewDesc("olm_kv_cells_used", "KV cache cells holding tokens.", []string{"model"}, nil)
	descCells  = prometheus.NewDesc("olm_kv_cells", "KV cache cells of a resident model.", []string{"model"}, nil)
)

func (c engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBusy, descSlots, descQueue, descCached, descCells} {
		ch <- d
	}
}

func (c engineCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.mg.snapshot() {
		st := l.m.Engine.Stats()
		ch <- prometheus.MustNewConstMetric(descBusy, prometheus.GaugeValue, float64(st.Busy), l.name)
		ch <- prometheus.MustNewConstMetric(descSlots, prometheus.GaugeValue, float64(st.Slots), l.name)
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(st.Queued), l.name)
		ch <- prometheus.MustNewConstMetric(descCached, prometheus.GaugeValue, float64(st.CachedTokens), l.name)
		ch <- prometheus.MustNewConstMetric(descCells, prometheus.GaugeValue, float64(st.CtxSize), l.name)
	}
}

func (m *metrics) handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }
