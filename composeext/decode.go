package composeext

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// Decoding runs on x-backup values that the schema has validated, as compose-go leaves
// them after merging and interpolation: maps, lists and scalars, where an interpolated
// number or boolean is a string. It only converts; what is wrong was said by the schema.

// command is one command: a string in the compose file runs with sh -c, a list as is.
type command []string

// commands is a command or a list of commands.
type commands []command

// argvs is commands as the plan holds them.
func (c commands) argvs() [][]string {
	if c == nil {
		return nil
	}
	out := make([][]string, len(c))
	for i, cmd := range c {
		out[i] = cmd
	}
	return out
}

// decoder collects the problems found while reading the x-backup of a project.
type decoder struct {
	probs *problems
	lang  *language
}

// decode converts a validated value into out, leaving out what the schema refused
// (bad, from language.check: top-level keys of a mapping, items of a top-level list,
// which become nil to keep the others' index, or entries of a top-level mapping of
// entries) so that what is right is still
// read and checked.
func (d *decoder) decode(path string, v any, bad map[string]bool, out any) {
	if m, ok := v.(map[string]any); ok && len(bad) > 0 {
		m = maps.Clone(m)
		for k := range bad {
			key, item, isItem := strings.Cut(k, "/")
			if entries, isMap := m[key].(map[string]any); isItem && isMap {
				entries = maps.Clone(entries)
				delete(entries, item)
				m[key] = entries
				continue
			}
			list, isList := m[key].([]any)
			if !isItem || !isList {
				delete(m, k)
				continue
			}
			list = slices.Clone(list)
			if i, err := strconv.Atoi(item); err == nil && i < len(list) {
				list[i] = nil
			}
			m[key] = list
		}
		v = m
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		WeaklyTypedInput: true,
		DecodeHook:       decodeHook,
		Result:           out,
	})
	if err == nil {
		err = dec.Decode(v)
	}
	if err != nil {
		d.probs.addf(path, "%v", err)
	}
}

// decodeHook reads what the schema allows in more than one form: a command as a string
// or a list, a command or a list of them, a duration as Go writes one, a notify target
// as a URL or a mapping, a healthcheck as a base URL or a mapping.
func decodeHook(from, to reflect.Type, v any) (any, error) {
	s, isString := v.(string)
	switch {
	case !isString:
		return v, nil
	case to == reflect.TypeOf(command{}):
		return []string{"sh", "-c", s}, nil
	case to == reflect.TypeOf(commands{}):
		return []any{s}, nil
	case to == reflect.TypeOf(Duration(0)):
		t, err := time.ParseDuration(strings.TrimSpace(s))
		return Duration(t), err
	case to == reflect.TypeOf(notifyDecl{}):
		return map[string]any{"url": s, "short": true}, nil
	case to == reflect.TypeOf(healthcheckDecl{}):
		return map[string]any{"base": s}, nil
	}
	return v, nil
}

// environment reads a compose-style environment: a mapping, or a list of KEY=VALUE.
// A key with no value takes its value from lookup, as compose does.
func environment(v any, lookup func(string) (string, bool)) map[string]string {
	out := map[string]string{}
	set := func(k string, val any, given bool) {
		if !given || val == nil {
			if s, ok := lookup(k); ok {
				out[k] = s
			}
			return
		}
		out[k] = fmt.Sprint(val)
	}
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			set(k, val, true)
		}
	case []any:
		for _, e := range t {
			k, val, found := strings.Cut(fmt.Sprint(e), "=")
			set(k, val, found)
		}
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
		if len(t) == 0 {
			return "an empty list"
		}
		return "a list"
	case map[string]any:
		if len(t) == 0 {
			return "an empty mapping"
		}
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}
