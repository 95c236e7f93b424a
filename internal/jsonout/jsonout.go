// Package jsonout is the one JSON encoding of mtukit's reports, shared by the
// CLI (--json) and the web API so both give identical bytes.
package jsonout

import "encoding/json"

// Marshal is v as indented JSON (two spaces) followed by a newline.
func Marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
