package web

import (
	"net/http"
	"sync"

	"github.com/mtukit/mtukit/encap"
	"github.com/mtukit/mtukit/internal/jsonout"
)

// preset binds a preset name to the stack and link MTU of a request that
// takes them as fields (tput), as the CLI's --preset does: the preset
// excludes the stack parameter, and an mtu parameter wins over its link
// MTU. calc takes the name itself (advise.Options.Preset).
func (b *query) preset(param string, stack *string, mtu *int) {
	v, ok := b.value(param)
	if !ok {
		return
	}
	p, err := encap.LookupPreset(v)
	if err != nil {
		b.err = encap.Paramf(param, "%s: %w", param, err)
		return
	}
	if _, given := b.q["stack"]; given {
		b.err = encap.Paramf(param, "%s %s and stack %q both given: the preset sets the stack (%s); give one of them", param, p.Name, *stack, p.Stack)
		return
	}
	*stack = p.Stack
	if _, given := b.q["mtu"]; !given {
		*mtu = p.LinkMTU
	}
}

// presetRow is a preset with mtukit's own value of its published figure,
// as mtukit calc --list-presets --json prints it.
type presetRow struct {
	encap.Preset
	Computed int `json:"computed"`
}

// presetsJSON is built on first use, as the catalog is.
var presetsJSON = sync.OnceValue(func() []byte {
	var rows []presetRow
	for _, p := range encap.Presets() {
		got, err := p.Computed()
		if err != nil {
			panic(err) // encap's TestPresetsAgainstPublished solves every preset
		}
		rows = append(rows, presetRow{p, got})
	}
	b, err := jsonout.Marshal(rows)
	if err != nil {
		panic(err)
	}
	return b
})

func (s *Server) handlePresets(w http.ResponseWriter, r *http.Request) {
	if pe := newQuery(r.URL.Query()).done(); pe != nil {
		writeError(w, http.StatusBadRequest, pe.Msg, pe.Param)
		return
	}
	writeJSONBytes(w, presetsJSON())
}
