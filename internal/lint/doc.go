// Package lint holds tests that keep the repository's rules: every package
// has a doc comment, and the pure packages never touch the network or
// system calls.
package lint
