package composeext

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid marks every configuration error: a bad x-backup declaration, a compose file
// that does not load, a missing -f file, an unknown service. The CLI maps it to exit code 2.
var ErrInvalid = errors.New("invalid configuration")

// InvalidError is a configuration error made of one or more problems, each one line
// naming the file, the path to the key and what is expected. It wraps ErrInvalid.
type InvalidError struct {
	// Lines are the problems, already formatted as "FILE: PATH: message".
	Lines []string
}

// Error returns the problems, one per line.
func (e *InvalidError) Error() string { return strings.Join(e.Lines, "\n") }

// Is reports whether target is ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// invalidf returns an InvalidError of one line.
func invalidf(format string, args ...any) error {
	return &InvalidError{Lines: []string{fmt.Sprintf(format, args...)}}
}

// problem is one thing wrong at a key path such as services.db.x-backup.strategy, or,
// with no path, in a flag or environment variable that msg names itself.
type problem struct {
	path string
	msg  string
}

// problems collects everything wrong so that it is all reported at once.
type problems struct {
	list []problem
}

// addf records a problem at path.
func (p *problems) addf(path, format string, args ...any) {
	p.list = append(p.list, problem{path: path, msg: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing is wrong, else an InvalidError whose lines name the file
// holding each key (fileOf answers that) in a stable order.
func (p *problems) err(fileOf func(path string) string) error {
	if len(p.list) == 0 {
		return nil
	}
	lines := make([]string, 0, len(p.list))
	for _, pr := range p.list {
		if pr.path == "" {
			lines = append(lines, pr.msg)
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: %s: %s", fileOf(pr.path), pr.path, pr.msg))
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i] < lines[j] })
	return &InvalidError{Lines: lines}
}

// KeyLine formats a problem found after loading (one only the engine can tell, such as
// a swarm service's mode) as Load formats its own: "FILE: PATH: message", FILE being
// the plan's compose file that holds the key. An InvalidError of such lines reports it.
func (p *Plan) KeyLine(path, format string, args ...any) string {
	return fmt.Sprintf("%s: %s: %s", fileLocator(p.ComposeFiles)(path), path, fmt.Sprintf(format, args...))
}
