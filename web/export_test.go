package web

// SetHeavyHook makes every heavy API job of s run f first, in its slot.
func SetHeavyHook(s *Server, f func()) { s.heavyHook = f }

// Route is a row of the routes table, as the tests see it.
type Route struct {
	Method, Pattern string
	Heavy, Doc      bool
	Params          []string
}

// Routes is the routes table.
func Routes() []Route {
	var out []Route
	for _, r := range routes {
		out = append(out, Route{r.Method, r.Pattern, r.Heavy, r.Doc, r.params()})
	}
	return out
}

// IsHeavy is isHeavy.
func IsHeavy(path string) bool { return isHeavy(path) }
