// Package jsonout is the one JSON encoding of mtukit's reports, shared by the
// CLI (--json) and the web API so both give identical bytes.
package jsonout
