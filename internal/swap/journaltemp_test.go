package swap

import "testing"

// A journal kept in Staging (a skipped entry) is rewritten through a temporary file
// beside it: one left by a kill is never moved into Live.
func TestJournalTempNotMoved(t *testing.T) {
	p := Plan{Live: "/live", Staging: "/staging", Rollback: "/rollback", Journal: "/staging/journal.json", Skip: []string{"journal.json"}}
	for name, want := range map[string]bool{
		".journal.json8412": true, "journal.json.tmp": true,
		"journal.json": false, ".journal.json": false, "data": false,
	} {
		if got := p.journalTemp(name); got != want {
			t.Errorf("journalTemp(%q) = %v, want %v", name, got, want)
		}
	}
	p.Skip = nil
	p.Journal = "/records/journal.json"
	if p.journalTemp(".journal.json8412") {
		t.Error("a journal outside Staging has no temporary file in it")
	}
}
