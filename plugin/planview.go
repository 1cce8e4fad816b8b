package plugin

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker-backup/docker-backup/composeext"
	"github.com/docker-backup/docker-backup/internal/agentimage"
	"github.com/docker-backup/docker-backup/internal/app"
	"github.com/docker-backup/docker-backup/internal/engine"
	"github.com/docker-backup/docker-backup/internal/helper"
)

// maxCommandWidth is where long commands (the presets' scripts) are cut in text output;
// --json shows them whole.
const maxCommandWidth = 100

// writePlanJSON prints the plan as one indented JSON document, with the helper kinds
// that get the engine's socket (socket_helpers) beside its docker_socket, and a swarm
// stack's services (stack) when the project is one.
func writePlanJSON(w io.Writer, plan *composeext.Plan, stack *app.StackPlan) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*composeext.Plan
		SocketHelpers []string       `json:"socket_helpers"`
		Stack         *app.StackPlan `json:"stack,omitempty"`
	}{plan, helper.SocketKinds(), stack})
}

// writePlanText prints the plan as a header, then one block per service:
//
//	db   dump, preset postgres → db.sql
//	     dump     sh -c 'pg_dumpall …'
func writePlanText(w io.Writer, plan *composeext.Plan, stack *app.StackPlan) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Project\t%s\n", plan.Project)
	if stack != nil {
		fmt.Fprintf(tw, "Stack\t%s (a swarm stack: %s=%s), through manager %s\n", stack.Namespace, engine.LabelStackNamespace, stack.Namespace, nodeLine(stack.Manager))
	}
	fmt.Fprintf(tw, "Repository\t%s\n", plan.Repository.Describe())
	fmt.Fprintf(tw, "Password\t%s\n", passwordLine(plan.Repository))
	if len(plan.Repository.EnvNames) > 0 {
		fmt.Fprintf(tw, "Environment\t%s\n", strings.Join(plan.Repository.EnvNames, ", "))
	}
	if plan.AgentImage != "" {
		fmt.Fprintf(tw, "Image\t%s (a prebuilt helper image, used as is)\n", plan.AgentImage)
	} else {
		fmt.Fprintf(tw, "Image\t%s, with this docker-backup added (built on the engine once: %s:<version>-…)\n", plan.Image, agentimage.Repository)
	}
	// The socket is root on the engine's host, in effect: say who gets it.
	socket := plan.DockerSocket
	if plan.DockerSocketDefault {
		socket += " (the default; with a local unix:// endpoint on Linux, that socket)"
	}
	fmt.Fprintf(tw, "Engine socket\t%s (helpers that get the engine's socket: %s)\n", socket, strings.Join(helper.SocketKinds(), ", "))
	fmt.Fprintf(tw, "Host\t%s\n", plan.HostDescribe())
	fmt.Fprintf(tw, "Parallel\t%d\n", plan.Parallel)
	if plan.Schedule != "" {
		fmt.Fprintf(tw, "Schedule\t%s\n", plan.Schedule)
	}
	fmt.Fprintf(tw, "Retention\t%s\n", plan.Retention.Describe())
	for _, c := range plan.Copies {
		writeCopy(tw, c)
		writeCopySource(tw, plan.Repository, c)
	}
	for _, t := range plan.Notify {
		fmt.Fprintf(tw, "Notify\t%s\n", t.Describe())
	}
	if pings := plan.Healthcheck.Describe(); pings != "" {
		fmt.Fprintf(tw, "Healthcheck\t%s\n", pings)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(plan.Services) == 0 {
		fmt.Fprintln(w, "\nNo service declares x-backup.")
	}
	for i, s := range plan.Services {
		fmt.Fprintln(w)
		var in *app.StackServicePlan
		if stack != nil {
			in = &stack.Services[i]
		}
		writeService(w, s, in)
	}
	if len(plan.Unprotected) > 0 {
		fmt.Fprintln(w, "\nUnprotected data (no x-backup):")
		for _, u := range plan.Unprotected {
			fmt.Fprintf(w, "  %s  %s\n", u.Service, strings.Join(u.Mounts, ", "))
		}
	}
	return nil
}

// writeService prints one service's block; in, when set, is the service in a stack.
func writeService(w io.Writer, s composeext.ServicePlan, in *app.StackServicePlan) {
	fmt.Fprintf(w, "%s  %s\n", s.Name, serviceSummary(s))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(label, value string) { fmt.Fprintf(tw, "  %s\t%s\n", label, value) }
	for _, m := range s.Volumes {
		row(m.Type, fmt.Sprintf("%s → %s  (%s in the service, %s in the snapshot)", m.Key, m.Source, m.Target, m.Path))
	}
	if len(s.Exclude) > 0 {
		row("exclude", strings.Join(s.Exclude, ", "))
	}
	for _, m := range s.Volumes {
		if len(m.Keep) > 0 {
			var keep []string
			for _, k := range m.Keep {
				keep = append(keep, path.Join(m.Target, k))
			}
			row("kept", strings.Join(keep, ", ")+"  (excluded by name: a restore leaves them in place)")
		}
	}
	if d := s.Dump; d != nil {
		row("dump", commandLine(d.Command))
		switch {
		case len(d.Restore) > 0:
			row("restore", commandLine(d.Restore))
		case d.RestoreNote != "":
			row("restore", "manual: "+d.RestoreNote)
		default:
			row("restore", "none declared")
		}
		if d.User != "" {
			row("user", d.User)
		}
	}
	for _, hooks := range []struct {
		label    string
		commands [][]string
	}{{"pre", s.Pre}, {"post", s.Post}, {"on_success", s.OnSuccess}, {"on_failure", s.OnFailure}} {
		for _, c := range hooks.commands {
			row(hooks.label, commandLine(c))
		}
	}
	if s.Timeout != 0 {
		row("timeout", time.Duration(s.Timeout).String())
	}
	if s.Strategy != composeext.StrategyNone {
		row("retention", s.Retention.Describe())
	}
	row("tags", strings.Join(s.Tags, ","))
	if in != nil {
		stackRows(row, *in)
	}
	_ = tw.Flush()
}

// stackRows are a stack's service rows: its swarm service, then per task its node and
// the service's volumes there.
func stackRows(row func(label, value string), s app.StackServicePlan) {
	if s.Service == "" {
		row("swarm", "no such service in the stack: nothing to back up")
		return
	}
	mode := string(s.Mode)
	if s.Replicas != nil {
		mode = fmt.Sprintf("%s %d", mode, *s.Replicas)
	}
	row("swarm", s.Service+" ("+mode+")")
	if len(s.Tasks) == 0 {
		row("task", "none running: nothing to back up while it has none")
	}
	for _, t := range s.Tasks {
		line := t.State + ", on no node yet"
		if t.Node.ID != "" {
			line = nodeLine(t.Node) + ": " + t.State
		}
		for _, v := range s.Volumes {
			if v.Local() {
				line += "; volume " + v.Name + " local to " + cmp.Or(t.Node.Hostname, "its node")
			} else {
				line += "; volume " + v.Name + " (driver " + v.Driver + ")"
			}
		}
		row("task", line)
	}
	if s.Stop != "" {
		row("stop", s.Stop)
	}
	if s.Refused != "" {
		row("refused", "up refuses it: "+s.Refused)
	}
}

// nodeLine names a swarm node: its hostname and short ID.
func nodeLine(n engine.Node) string {
	return cmp.Or(n.Hostname, "?") + " (" + engine.ShortID(n.ID) + ")"
}

// serviceSummary is the line after a service's name.
func serviceSummary(s composeext.ServicePlan) string {
	switch s.Strategy {
	case composeext.StrategyNone:
		return "none (not backed up, by decision)"
	case composeext.StrategyDump:
		out := "dump"
		if s.Preset != "" {
			out += ", preset " + s.Preset
		}
		if s.Dump != nil {
			out += " → /" + s.Dump.Filename
		}
		return out
	}
	out := fmt.Sprintf("volumes (%d)", len(s.Volumes))
	if s.Stop {
		out += ", service stopped during the copy"
	}
	return out
}

// writeCopy prints a copy repository's rows of the header:
//
//	Copy offsite  s3:http://minio:9000/shop
//	  password    file /srv/shop/offsite.pw
func writeCopy(tw io.Writer, c composeext.CopyPlan) {
	fmt.Fprintf(tw, "Copy %s\t%s\n", c.Name, c.Repository.Describe())
	fmt.Fprintf(tw, "  password\t%s\n", passwordLine(c.Repository))
	if len(c.Repository.EnvNames) > 0 {
		fmt.Fprintf(tw, "  environment\t%s\n", strings.Join(c.Repository.EnvNames, ", "))
	}
	fmt.Fprintf(tw, "  retention\t%s\n", c.RetentionDescribe())
	schedule := "after each scheduled up"
	if c.Schedule != "" {
		schedule = c.Schedule
	}
	fmt.Fprintf(tw, "  schedule\t%s\n", schedule)
	if c.MaxLag > 0 {
		fmt.Fprintf(tw, "  max lag\t%s (the scheduler alerts beyond it)\n", time.Duration(c.MaxLag))
	}
}

// passwordLine says where the password comes from, never what it is.
func passwordLine(r composeext.Repository) string {
	switch {
	case r.GeneratePassword:
		return "generated on first use into " + r.PasswordFile + " (keep a copy elsewhere)"
	case r.PasswordFile != "" && r.OnEngine():
		// Beside a repository on the engine's host, say which machine it is read on.
		return "file " + r.PasswordFile + " (on this machine)"
	case r.PasswordFile != "":
		return "file " + r.PasswordFile
	case len(r.PasswordCommand) > 0:
		return "command " + commandLine(r.PasswordCommand)
	case r.Password != "":
		return "RESTIC_PASSWORD from the environment"
	}
	return "none"
}

// commandLine shows an argv list as a shell would read it, cut when long. A shell
// command (sh -c SCRIPT, what a YAML string becomes) is shown as its script.
func commandLine(argv []string) string {
	var s string
	if len(argv) == 3 && argv[0] == "sh" && argv[1] == "-c" {
		s = argv[2]
	} else {
		quoted := make([]string, len(argv))
		for i, a := range argv {
			quoted[i] = shellWord(a)
		}
		s = "[" + strings.Join(quoted, " ") + "]"
	}
	if len([]rune(s)) <= maxCommandWidth {
		return s
	}
	// A long script (a preset's) ends with the tool it runs: show that statement.
	if i := strings.LastIndexAny(s, ";|"); i > 0 {
		s = "… " + strings.TrimSpace(s[i+1:])
	}
	if r := []rune(s); len(r) > maxCommandWidth {
		s = string(r[:maxCommandWidth]) + "…"
	}
	return s + "  (whole script: --json)"
}

// shellWord quotes a word for display when it holds anything a shell would split on.
func shellWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"$\\|&;<>(){}*?[]#~`!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
