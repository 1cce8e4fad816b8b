package plugin

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/report"
	"github.com/docker-backup/docker-backup/internal/verify"
	"github.com/docker-backup/docker-backup/restic"
)

// verifyProgress prints the drill's steps as they go, one line each (on stderr: stdout
// holds the table or the JSON document), and its warnings; it notes the project's name
// as the drill ends.
type verifyProgress struct {
	mu      sync.Mutex
	out     io.Writer
	project string
}

// Event shows one event of the drill.
func (p *verifyProgress) Event(e app.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case app.Step:
		fmt.Fprintf(p.out, "%s: %s\n", e.Service, e.Message)
	case app.Warning:
		fmt.Fprintln(p.out, "warning: "+e.Message)
	case app.Done:
		if r := e.Result; r.Err != nil {
			fmt.Fprintf(p.out, "%s: failed: %s\n", r.Service, report.OneLine(r.Err.Error()))
		} else {
			fmt.Fprintf(p.out, "%s: %s\n", r.Service, r.Status)
		}
	case app.Ended:
		p.project = e.Run.Project
	}
}

// failureLines is how many lines of a failure the table shows.
const failureLines = 6

// writeVerifyTable prints one row per service, a failure's further lines (the end of a
// command's stderr) below its row, and then how to remove what --keep left.
func writeVerifyTable(w io.Writer, results []report.Result) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSNAPSHOT\tRESTORE\tRESULT\tDETAIL")
	var below [][]string
	for _, r := range results {
		snap, took := "-", "-"
		if r.Snapshot != "" {
			snap = restic.ShortID(r.Snapshot)
		}
		if r.Duration > 0 {
			took = r.Duration.Round(100 * time.Millisecond).String()
		}
		detail := r.Detail
		var more []string
		if r.Err != nil {
			lines := verify.Lines(r.Err.Error())
			if len(lines) == 0 {
				lines = []string{"failed"}
			}
			detail, more = lines[0], lines[1:min(len(lines), failureLines)]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Service, snap, took, r.Status, detail)
		if len(more) > 0 {
			// Below the table: tabwriter would widen its last column to them.
			below = append(below, append([]string{r.Service + ":"}, more...))
		}
	}
	_ = tw.Flush()
	for _, b := range below {
		fmt.Fprintln(w, b[0])
		for _, l := range b[1:] {
			fmt.Fprintln(w, "    "+l)
		}
	}
	var kept []string
	for _, r := range results {
		kept = append(kept, r.Kept...)
	}
	if len(kept) > 0 {
		fmt.Fprintln(w, "Kept for inspection (--keep); remove them with:")
		for _, k := range kept {
			fmt.Fprintln(w, "  "+k)
		}
	}
}

// verifyJSON is verify --json's document.
type verifyJSON struct {
	Project  string              `json:"project"`
	Services []verifyServiceJSON `json:"services"`
}

type verifyServiceJSON struct {
	Service        string   `json:"service"`
	Strategy       string   `json:"strategy"`
	Snapshot       string   `json:"snapshot,omitempty"`
	RestoreSeconds float64  `json:"restore_seconds"`
	Result         string   `json:"result"`
	Detail         string   `json:"detail,omitempty"`
	Error          string   `json:"error,omitempty"`
	Kept           []string `json:"kept,omitempty"`
}

func writeVerifyJSON(w io.Writer, project string, results []report.Result) error {
	doc := verifyJSON{Project: project, Services: []verifyServiceJSON{}}
	for _, r := range results {
		s := verifyServiceJSON{
			Service: r.Service, Strategy: r.Strategy, Snapshot: r.Snapshot,
			RestoreSeconds: r.Duration.Seconds(), Result: string(r.Status), Detail: r.Detail, Kept: r.Kept,
		}
		if r.Err != nil {
			s.Error = strings.Join(verify.Lines(r.Err.Error()), "\n")
		}
		doc.Services = append(doc.Services, s)
	}
	if err := writeJSON(w, doc); err != nil {
		return fmt.Errorf("writing the results: %w", err)
	}
	return nil
}
