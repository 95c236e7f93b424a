package tracegen

import (
	"bytes"
	"testing"
)

// TestDeterministic: the same seed writes the same file, another seed
// another one, so a benchmark figure can be reproduced.
func TestDeterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	cfg := Config{Packets: 20000, Flows: 100, Snap: 128, Seed: 7}
	if _, err := Generate(&a, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(&b, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 8
	st, err := Generate(&c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same seed wrote different files")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("another seed wrote the same file")
	}
	if st.Packets < cfg.Packets || st.Flows < 100 {
		t.Errorf("stats %+v", st)
	}
}
