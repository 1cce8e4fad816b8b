package composeext

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is the JSON Schema of x-backup: the document describes the top-level mapping,
// and its $defs/service a service's x-backup. It is the law of the language: Load
// validates every x-backup with it before anything is decoded, and editors and CI can
// check compose files with it. Its "x-want" and "x-message" keywords (ignored by other
// validators) word the messages Load gives.
//
//go:embed schema/x-backup.schema.json
var Schema []byte

// schemaURL names the embedded schema for the compiler; nothing is fetched.
const schemaURL = "x-backup.schema.json"

// language is the compiled schema: the top-level x-backup, a service's, and the
// document itself, where messages look their wording up.
type language struct {
	project, service *jsonschema.Schema
	doc              map[string]any
}

// compileSchema compiles the embedded schema.
func compileSchema() (*language, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		return nil, fmt.Errorf("reading the x-backup schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("loading the x-backup schema: %w", err)
	}
	lang := &language{}
	if lang.project, err = c.Compile(schemaURL); err != nil {
		return nil, fmt.Errorf("compiling the x-backup schema: %w", err)
	}
	if lang.service, err = c.Compile(schemaURL + "#/$defs/service"); err != nil {
		return nil, fmt.Errorf("compiling the x-backup schema: %w", err)
	}
	if err := json.Unmarshal(Schema, &lang.doc); err != nil {
		return nil, fmt.Errorf("reading the x-backup schema: %w", err)
	}
	return lang, nil
}

// check validates v, an x-backup value as compose-go leaves it, against sch and records
// each problem at its key path under base. It returns the top-level keys of v that hold
// a problem, "" for v itself: nil when v is valid.
func (l *language) check(sch *jsonschema.Schema, base string, v any, probs *problems) map[string]bool {
	b, err := json.Marshal(v)
	if err == nil {
		var inst any
		if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(b)); err == nil {
			err = sch.Validate(inst)
		}
	}
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		probs.addf(base, "%v", err)
		return map[string]bool{"": true}
	}
	r := reporter{lang: l, base: base, value: v, probs: probs, bad: map[string]bool{}}
	r.report(ve)
	return r.bad
}
