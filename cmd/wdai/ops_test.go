package main

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestSamplerAPIP95FromTheHistogramSinceTheLastSample(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route"})
	reg.MustRegister(hist)
	h := &healthSampler{gatherer: reg}
	// 100 requests: 94 fast (4 ms), 6 slow (1.5 s) on two routes.
	for i := range 100 {
		d, route := 0.004, "/graphql"
		if i >= 94 {
			d, route = 1.5, "/webhooks/stripe"
		}
		hist.WithLabelValues(route).Observe(d)
	}
	n, p95 := h.apiLatency()
	if n != 100 || p95 < time.Second || p95 > 2100*time.Millisecond {
		t.Fatalf("first sample: %d requests, p95 %s; want 100 and within the 1.5 s bucket (1.024-2.048 s)", n, p95)
	}
	// The next sample sees only what came after: 50 fast requests.
	for range 50 {
		hist.WithLabelValues("/graphql").Observe(0.004)
	}
	n, p95 = h.apiLatency()
	if n != 50 || p95 > 5*time.Millisecond {
		t.Fatalf("second sample: %d requests, p95 %s; want 50 and at most 4 ms's bucket", n, p95)
	}
	if n, _ := h.apiLatency(); n != 0 {
		t.Fatalf("a sample with no new requests counted %d", n)
	}
}
