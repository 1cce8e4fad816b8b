package backup

import (
	"errors"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/dump"
	"github.com/docker-backup/docker-backup/internal/engine/enginetest"
)

var pgCheck = &composeext.DumpCheck{Tool: "pg_dumpall", End: "-- PostgreSQL database cluster dump complete"}

// pgDumpEnd is how pg_dumpall ends a cluster dump (newer versions add \unrestrict).
const pgDumpEnd = "--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n" +
	"--\n-- PostgreSQL database cluster dump complete\n--\n\n"

// checkedDump is the db dump service with a check, as a preset would set it.
func checkedDump(check *composeext.DumpCheck) composeext.ServicePlan {
	svc := dumpService("pg_dumpall")
	svc.Dump.Check = check
	return svc
}

func TestUpDumpWithoutEndMarkerIsNotStored(t *testing.T) {
	for name, tc := range map[string]struct {
		stdout, stderr string
		ok             bool
	}{
		"whole":                    {stdout: "CREATE TABLE notes;\n" + pgDumpEnd + "\n\n", ok: true},
		"cut off, exit 0":          {stdout: "CREATE TABLE notes;\nINSERT INTO notes VALUES (1, 'a"},
		"cut off, stderr kept too": {stdout: "CREATE TABLE notes;\n", stderr: "pg_dump: warning: connection lost\n"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.eng.AddContainer(enginetest.ServiceContainer("c1", "shop", "db", true))
			f.execs["pg_dumpall"] = fakeExec{stdout: tc.stdout, stderr: tc.stderr}
			results, _, _ := f.up(t, testPlan(checkedDump(pgCheck)), Options{Parallel: 1})
			r := results[0]
			backups := f.rst.Find("backup")
			if len(backups) != 1 {
				t.Fatalf("restic ran %v, want one backup", f.rst.Commands())
			}
			if tc.ok {
				if r.Status != StatusOK || backups[0].StdinErr != nil || backups[0].Stdin != tc.stdout {
					t.Fatalf("result %+v, restic read %q (%v): want ok with the whole dump", r, backups[0].Stdin, backups[0].StdinErr)
				}
				return
			}
			if r.Status != StatusFailed || !errors.Is(r.Err, dump.ErrCutOff) {
				t.Fatalf("result %+v, want failed because the dump was cut off", r)
			}
			// restic read every byte but must see its input fail, never end: that is
			// what keeps it from committing.
			if backups[0].StdinErr == nil {
				t.Errorf("restic's input ended cleanly after a dump without its end marker: a snapshot would be committed")
			}
			if !strings.Contains(r.Err.Error(), `pg_dumpall's end marker "-- PostgreSQL database cluster dump complete": it was cut off`) {
				t.Errorf("error %q does not name the tool and its marker", r.Err)
			}
			if tc.stderr != "" && !strings.Contains(r.Err.Error(), "connection lost") {
				t.Errorf("error %q lacks the dump's stderr", r.Err)
			}
		})
	}
}
