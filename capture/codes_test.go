package capture

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestCodesDocumented holds docs/analyze.md to the Codes table: a row per
// code with its anchor and severity, and no row for a code that is not in
// the table.
func TestCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/analyze.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	row := regexp.MustCompile("(?m)^\\| <a id=\"code-([a-z_]+)\"></a>`([a-z_]+)` \\|.*$")
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		if m[1] != m[2] {
			t.Errorf("row of %s has the anchor code-%s", m[2], m[1])
		}
		rows[m[2]] = m[0]
	}
	seen := map[string]bool{}
	for _, c := range Codes {
		if seen[c.Code] {
			t.Errorf("%s twice in Codes", c.Code)
		}
		seen[c.Code] = true
		want := fmt.Sprintf("| <a id=%q></a>`%s` | %s |", c.Anchor(), c.Code, c.Severity)
		if r, ok := rows[c.Code]; !ok {
			t.Errorf("docs/analyze.md has no row for %s (want one starting %q)", c.Code, want)
		} else if !strings.HasPrefix(r, want) {
			t.Errorf("docs/analyze.md row of %s:\n%s\nwant it to start %q", c.Code, r, want)
		}
		if c.Help == "" || !strings.Contains(CodesHelp(), c.Code+" ") {
			t.Errorf("%s missing from the help", c.Code)
		}
	}
	for code := range rows {
		if !seen[code] {
			t.Errorf("docs/analyze.md documents %s, which is not in Codes", code)
		}
	}
	if len(codeOrder) != len(Codes) {
		t.Errorf("codeOrder has %d codes, Codes %d", len(codeOrder), len(Codes))
	}
}
