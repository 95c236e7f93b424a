//go:build race

package sim

// raceEnabled reports a -race build: the heaviest number-checking tests
// skip there (they test arithmetic, not concurrency).
const raceEnabled = true
