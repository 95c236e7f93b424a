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
