package composeext

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// reporter turns the schema's validation errors into problems of the usual form,
// "services.db.x-backup.stop: got string "maybe", want true or false": the key path,
// what was found and what the schema wants ("x-want", or "x-message" for a whole
// message).
type reporter struct {
	lang  *language
	base  string
	value any
	probs *problems
	// bad holds the top-level keys with a problem ("" for the value itself), or the
	// items of a top-level list ("notify/3") or entry mapping ("copies/offsite"),
	// which decoding then leaves out.
	bad map[string]bool
}

// entryMappings are the top-level keys whose value maps names to entries that stand
// alone (x-backup.copies): a problem in one entry leaves the others to be read.
var entryMappings = map[string]bool{"copies": true}

// addf records a problem at an instance location.
func (r reporter) addf(loc []string, format string, args ...any) {
	switch _, isList := r.at(loc[:min(len(loc), 1)]).([]any); {
	case len(loc) == 0:
		r.bad[""] = true
	case len(loc) > 1 && (isList || entryMappings[loc[0]]):
		r.bad[loc[0]+"/"+loc[1]] = true
	default:
		r.bad[loc[0]] = true
	}
	r.probs.addf(r.path(loc), format, args...)
}

// report records the problems of e and its causes.
func (r reporter) report(e *jsonschema.ValidationError) {
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf, *kind.AnyOf:
		if len(e.Causes) == 0 {
			r.leaf(e)
		}
		for _, c := range e.Causes {
			r.report(c)
		}
	case *kind.AdditionalProperties:
		known := r.properties(e.SchemaURL)
		for _, p := range k.Properties {
			r.addf(append(slices.Clone(e.InstanceLocation), p), "unknown key (want one of %s)", strings.Join(known, ", "))
		}
	case *kind.Required:
		for _, p := range k.Missing {
			r.addf(append(slices.Clone(e.InstanceLocation), p), "missing (want %s)", r.want(e.SchemaURL+"/properties/"+p))
		}
	case *kind.PropertyNames:
		r.addf(append(propertiesPath(e.SchemaURL), k.Property), "not a valid name (want %s)", r.want(e.SchemaURL))
	case *kind.OneOf:
		r.oneOf(e)
	default:
		r.leaf(e)
	}
}

// oneOf reports a value that matches none of its alternatives. When one alternative
// alone takes the value's type and has its own words for what is wrong (a mapping's
// keys, a list's items, an x-want), its problems are the ones to tell; else the value
// is told what the whole oneOf wants.
func (r reporter) oneOf(e *jsonschema.ValidationError) {
	var fitting []*jsonschema.ValidationError
	for _, c := range e.Causes {
		if !wrongType(c, len(e.InstanceLocation)) {
			fitting = append(fitting, c)
		}
	}
	if len(fitting) == 1 {
		_, isMap := r.at(e.InstanceLocation).(map[string]any)
		_, hasWant := r.node(fitting[0].SchemaURL)["x-want"]
		if isMap || hasWant || deeper(fitting[0], len(e.InstanceLocation)) {
			r.report(fitting[0])
			return
		}
	}
	r.leaf(e)
}

// propertiesPath is the instance location of the mapping a schema keyword at url
// applies to, read from the url (#/properties/copies/propertyNames → [copies]): the
// validator gives a propertyNames error the name's own location, which is empty. It
// holds for keywords reached through "properties" alone, as x-backup's mappings of
// names are.
func propertiesPath(url string) []string {
	_, ptr, _ := strings.Cut(url, "#")
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	var loc []string
	for i := 0; i+1 < len(toks); i++ {
		if toks[i] == "properties" {
			i++
			loc = append(loc, strings.ReplaceAll(strings.ReplaceAll(toks[i], "~1", "/"), "~0", "~"))
		}
	}
	return loc
}

// wrongType reports whether an alternative refused the value at depth for its type or
// for not being one of its constants: it was not the alternative the value meant.
func wrongType(e *jsonschema.ValidationError, depth int) bool {
	for len(e.Causes) == 1 && len(e.InstanceLocation) == depth {
		e = e.Causes[0]
	}
	switch e.ErrorKind.(type) {
	case *kind.Type, *kind.Enum, *kind.Const:
		return len(e.InstanceLocation) == depth
	}
	return false
}

// deeper reports whether e or one of its causes is about a value below depth.
func deeper(e *jsonschema.ValidationError, depth int) bool {
	if len(e.InstanceLocation) > depth {
		return true
	}
	for _, c := range e.Causes {
		if deeper(c, depth) {
			return true
		}
	}
	return false
}

// leaf records one problem: the schema's x-message, else what was found and what the
// schema wants there.
func (r reporter) leaf(e *jsonschema.ValidationError) {
	if msg, ok := r.node(e.SchemaURL)["x-message"].(string); ok {
		r.addf(e.InstanceLocation, "%s", msg)
		return
	}
	r.addf(e.InstanceLocation, "got %s, want %s", describe(r.at(e.InstanceLocation)), r.want(e.SchemaURL))
}

// want is what the schema at url wants, in words: its x-want, else its constants or type.
func (r reporter) want(url string) string {
	n := r.node(url)
	if w, ok := n["x-want"].(string); ok {
		return w
	}
	if enum, ok := n["enum"].([]any); ok {
		words := make([]string, len(enum))
		for i, v := range enum {
			words[i] = fmt.Sprint(v)
		}
		return "one of " + strings.Join(words, ", ")
	}
	if t, ok := n["type"].(string); ok {
		return typeWords[t]
	}
	return "what the x-backup schema describes"
}

// typeWords are JSON Schema's types in the words of YAML users.
var typeWords = map[string]string{
	"object": "a mapping", "array": "a list", "string": "a string", "integer": "a whole number",
	"number": "a number", "boolean": "true or false", "null": "nothing",
}

// properties lists the keys the object schema at url knows, sorted.
func (r reporter) properties(url string) []string {
	props, _ := r.node(url)["properties"].(map[string]any)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// node finds the schema object at url (schemaURL#/json/pointer), following a $ref
// that stands alone.
func (r reporter) node(url string) map[string]any {
	_, ptr, _ := strings.Cut(url, "#")
	var cur any = r.lang.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, _ := strconv.Atoi(tok)
			if i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		}
	}
	n, _ := cur.(map[string]any)
	if ref, ok := n["$ref"].(string); ok && len(n) == 1 {
		return r.node(ref)
	}
	return n
}

// at is the value at an instance location, as compose-go gave it.
func (r reporter) at(loc []string) any {
	cur := r.value
	for _, tok := range loc {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, _ := strconv.Atoi(tok)
			cur = c[i]
		}
	}
	return cur
}

// path is the key path of an instance location: base.key[0].key.
func (r reporter) path(loc []string) string {
	var b strings.Builder
	b.WriteString(r.base)
	cur := r.value
	for _, tok := range loc {
		switch c := cur.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			i, _ := strconv.Atoi(tok)
			if i >= 0 && i < len(c) {
				cur = c[i]
			}
		case map[string]any:
			b.WriteString("." + tok)
			cur = c[tok]
		default:
			b.WriteString("." + tok)
		}
	}
	return b.String()
}
