package composeext

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The decoder reads x-backup values as compose-go leaves them after merging and
// interpolation: maps, lists and scalars, where an interpolated scalar is a string. It
// reports every problem with the path to its key rather than stopping at the first.

// decoder walks one x-backup mapping, recording problems.
type decoder struct {
	probs *problems
}

// fields checks that m holds only the known keys and returns it; a non-mapping value
// is a problem reported at path.
func (d *decoder) fields(path string, v any, known []string, want string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.probs.addf(path, "got %s, want %s", describe(v), want)
		return nil, false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			d.probs.addf(path+"."+k, "unknown key (want one of %s)", strings.Join(known, ", "))
		}
	}
	return m, true
}

// str reads a string; numbers and booleans are accepted as their text.
func (d *decoder) str(path string, v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(t), true
	}
	d.probs.addf(path, "got %s, want a string", describe(v))
	return "", false
}

// integer reads a whole number at least min; an interpolated string is parsed.
func (d *decoder) integer(path string, v any, min int) (int, bool) {
	var n int
	switch t := v.(type) {
	case int:
		n = t
	case int64:
		n = int(t)
	case uint64:
		n = int(t)
	case float64:
		if t != float64(int(t)) {
			d.probs.addf(path, "got %v, want a whole number", t)
			return 0, false
		}
		n = int(t)
	case string:
		parsed, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			d.probs.addf(path, "got %q, want a whole number", t)
			return 0, false
		}
		n = parsed
	default:
		d.probs.addf(path, "got %s, want a whole number", describe(v))
		return 0, false
	}
	if n < min {
		d.probs.addf(path, "got %d, want a number of at least %d", n, min)
		return 0, false
	}
	return n, true
}

// boolean reads true or false; an interpolated string is parsed.
func (d *decoder) boolean(path string, v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(t)); err == nil {
			return b, true
		}
	}
	d.probs.addf(path, "got %s, want true or false", describe(v))
	return false, false
}

// strList reads a string or a list of strings.
func (d *decoder) strList(path string, v any) ([]string, bool) {
	if s, ok := v.(string); ok {
		return []string{s}, true
	}
	list, ok := v.([]any)
	if !ok {
		d.probs.addf(path, "got %s, want a string or a list of strings", describe(v))
		return nil, false
	}
	out := make([]string, 0, len(list))
	good := true
	for i, e := range list {
		s, ok := d.str(fmt.Sprintf("%s[%d]", path, i), e)
		good = good && ok
		out = append(out, s)
	}
	return out, good
}

// command reads one command: a string run with sh -c, or a list of strings run as is.
func (d *decoder) command(path string, v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		if strings.TrimSpace(t) == "" {
			d.probs.addf(path, "empty command")
			return nil, false
		}
		return []string{"sh", "-c", t}, true
	case []any:
		if len(t) == 0 {
			d.probs.addf(path, "empty command")
			return nil, false
		}
		argv, ok := d.strList(path, t)
		return argv, ok
	}
	d.probs.addf(path, "got %s, want a command (a string for sh -c, or a list of arguments)", describe(v))
	return nil, false
}

// commands reads a command or a list of commands, where each command is a string (run
// with sh -c) or a list of arguments.
func (d *decoder) commands(path string, v any) ([][]string, bool) {
	if list, ok := v.([]any); ok {
		out := make([][]string, 0, len(list))
		good := true
		for i, e := range list {
			argv, ok := d.command(fmt.Sprintf("%s[%d]", path, i), e)
			good = good && ok
			out = append(out, argv)
		}
		return out, good
	}
	argv, ok := d.command(path, v)
	if !ok {
		return nil, false
	}
	return [][]string{argv}, true
}

// environment reads a compose-style environment: a mapping, or a list of KEY=VALUE.
// A key with no value takes its value from lookup, as compose does.
func (d *decoder) environment(path string, v any, lookup func(string) (string, bool)) map[string]string {
	out := map[string]string{}
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if val == nil {
				if s, ok := lookup(k); ok {
					out[k] = s
				}
				continue
			}
			if s, ok := d.str(path+"."+k, val); ok {
				out[k] = s
			}
		}
	case []any:
		for i, e := range t {
			s, ok := d.str(fmt.Sprintf("%s[%d]", path, i), e)
			if !ok {
				continue
			}
			k, val, found := strings.Cut(s, "=")
			if !found {
				if val, ok := lookup(k); ok {
					out[k] = val
				}
				continue
			}
			out[k] = val
		}
	default:
		d.probs.addf(path, "got %s, want a mapping or a list of KEY=VALUE", describe(v))
	}
	return out
}

// describe names a value's type for messages.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("string %q", t)
	case bool:
		return fmt.Sprintf("%t", t)
	case int, int64, uint64, float64:
		return fmt.Sprintf("number %v", t)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
