package encap

import "fmt"

// errorf builds an error for a layer's builder; parseLayer adds the spec
// and position.
func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
