package plugin

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/docker-backup/docker-backup/internal/app"
)

// metricsFileFlag is --metrics-file, on up, verify, forget, check and schedule.
func metricsFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics-file", Usage: "Write Prometheus metrics of the outcome to `PATH` (for node_exporter's textfile collector), keeping the file's earlier series"}
}

// runFlags are the flags of the commands that begin a run (up, restore, forget…).
func runFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "wait", Usage: "Wait as long as another run of the project takes, instead of failing after a minute"},
		&cli.DurationFlag{Name: "retry-lock", Usage: "Wait up to this long for a repository lock held by someone else (restic's --retry-lock, e.g. 5m)"},
	}
}

// readRunSettings reads runFlags.
func readRunSettings(c *cli.Context) app.RunSettings {
	return app.RunSettings{Wait: c.Bool("wait"), RetryLock: c.Duration("retry-lock")}
}

// warnTo prints warnings as "warning: …" lines.
func warnTo(w io.Writer) func(string) {
	return func(msg string) { fmt.Fprintln(w, "warning: "+msg) }
}

// warnings is a sink that prints the warnings among a command's events to w, and
// nothing else: for the commands whose output is their result (forget, check…).
func warnings(w io.Writer) app.Sink {
	warn := warnTo(w)
	return app.SinkFunc(func(e app.Event) {
		if e.Kind == app.Warning {
			warn(e.Message)
		}
	})
}

// show prints a command's result v when it has one: one JSON document with --json,
// else text.
func show(c *cli.Context, w io.Writer, v any, err error, text func() error) error {
	switch {
	case err != nil:
		return err
	case c.Bool("json"):
		return writeJSON(w, v)
	}
	return text()
}

// writeJSON prints v as an indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
