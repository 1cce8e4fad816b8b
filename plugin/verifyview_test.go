package plugin

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/verify"
)

// drillResults are a passing dump, a dump whose restore failed with a (masked) secret
// in its error and a three-line tail, and a skipped service.
func drillResults() []report.Result {
	return []report.Result{
		{Service: "db", Strategy: "dump", Snapshot: "51c8b72854768fa2", Duration: 1700 * time.Millisecond,
			Status: verify.StatusOK, Detail: "databases appdb (1 table)", Kept: []string{"docker rm -f shop-backup-verify-db-1"}},
		{Service: "old", Strategy: "dump", Snapshot: "689731f1aa", Status: verify.StatusFailed,
			Err: errors.New("loading the dump: the restore command exited with code 3: ERROR: syntax error (password ***) | LINE 1: this is not SQL; | ^")},
		{Service: "web", Strategy: "none", Status: verify.StatusSkipped, Detail: "strategy none: nothing to verify"},
	}
}

func TestVerifyTable(t *testing.T) {
	results := drillResults()
	var b strings.Builder
	writeVerifyTable(&b, results)
	want := `SERVICE  SNAPSHOT  RESTORE  RESULT   DETAIL
db       51c8b728  1.7s     ok       databases appdb (1 table)
old      689731f1  -        failed   loading the dump: the restore command exited with code 3: ERROR: syntax error (password ***)
web      -         -        skipped  strategy none: nothing to verify
old:
    LINE 1: this is not SQL;
    ^
Kept for inspection (--keep); remove them with:
  docker rm -f shop-backup-verify-db-1
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestVerifyJSON(t *testing.T) {
	results := drillResults()
	var b strings.Builder
	if err := writeVerifyJSON(&b, "shop", results); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "hunter2") {
		t.Errorf("a secret in the JSON:\n%s", b.String())
	}
	var doc verifyJSON
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Project != "shop" || len(doc.Services) != 3 || doc.Services[0].RestoreSeconds != 1.7 || doc.Services[1].Result != "failed" ||
		!strings.HasSuffix(doc.Services[1].Error, "LINE 1: this is not SQL;\n^") || doc.Services[2].Result != "skipped" {
		t.Errorf("document %+v", doc)
	}
}
