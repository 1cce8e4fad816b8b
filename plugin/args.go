package plugin

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// hoistFlags moves the flags that follow a command's arguments before them, so that
// `docker backup restore db --yes` reads as docker users write it: urfave/cli stops
// parsing flags at a command's first argument. args[0] is the program name; a "--"
// ends the flags as usual.
func hoistFlags(app *cli.App, args []string) []string {
	appValue := takesValue(app.Flags)
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" && args[i] != "--" {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if appValue[name] && !hasValue {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	takesValue := takesValue(cmd.Flags)
	out := append([]string{}, args[:i+1]...)
	var positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			positional = append(positional, rest[j:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		out = append(out, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if takesValue[name] && !hasValue && j+1 < len(rest) {
			j++
			out = append(out, rest[j])
		}
	}
	return append(out, positional...)
}

// takesValue tells, for each name of each flag, whether the flag takes a value: every
// flag but a boolean one.
func takesValue(flags []cli.Flag) map[string]bool {
	m := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, name := range f.Names() {
			m[name] = !isBool
		}
	}
	return m
}
