package web

import "testing"

// TestRoutesHaveHelp: every documented route has its line in `mtukit serve
// --help`, which is built from the routes table, so a new endpoint cannot
// be served without being listed there.
func TestRoutesHaveHelp(t *testing.T) {
	listed := map[string]bool{}
	for _, e := range Endpoints() {
		listed[e.Method+" "+e.Path] = true
	}
	for _, r := range routes {
		if r.Doc && r.Help == "" {
			t.Errorf("%s %s is an API route without a help line", r.Method, r.Pattern)
		}
		if r.Help != "" && !listed[r.Method+" "+r.Pattern] && r.Pattern != "/{$}" {
			t.Errorf("%s %s has help but Endpoints does not list it", r.Method, r.Pattern)
		}
	}
	if len(Endpoints()) < 9 {
		t.Errorf("Endpoints lists %d routes; the table has at least 9 with help", len(Endpoints()))
	}
}
