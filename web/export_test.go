package web

// SetHeavyHook makes every heavy API job of s run f first, in its slot.
func SetHeavyHook(s *Server, f func()) { s.heavyHook = f }
