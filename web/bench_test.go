package web_test

import (
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/mtukit/mtukit/web"
)

// BenchmarkCalcAPI is the handler's cost for one /api/v1/calc request,
// without the network (scripts/load-web.sh measures with it).
func BenchmarkCalcAPI(b *testing.B) {
	h := web.New(testConfig())
	r := httptest.NewRequest("GET", "/api/v1/calc?stack=pppoe%2Fesp%28aes-gcm-16%29%2Fgre", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkCalcAPIUncached varies the link MTU so that nearly every request
// misses the report cache: the cost of computing and encoding a report.
func BenchmarkCalcAPIUncached(b *testing.B) {
	h := web.New(testConfig())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		r := httptest.NewRequest("GET", "/api/v1/calc?stack=pppoe%2Fesp%28aes-gcm-16%29%2Fgre&mtu="+strconv.Itoa(1280+(i*7919)%60000), nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
