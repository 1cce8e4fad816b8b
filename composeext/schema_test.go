package composeext

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
)

// yamlBlockRE finds ```yaml fenced blocks in Markdown.
var yamlBlockRE = regexp.MustCompile("(?ms)^```ya?ml[ \t]*\n(.*?)^```")

// compiled compiles the embedded schema for a test.
func compiled(t *testing.T) (project, service *jsonschema.Schema) {
	t.Helper()
	lang, err := compileSchema()
	if err != nil {
		t.Fatal(err)
	}
	return lang.project, lang.service
}

// examples are the compose documents to check: the ```yaml blocks of the README and the
// x-backup reference, the e2e compose files and this package's valid golden cases. Files
// that do not exist yet are skipped.
func examples(t *testing.T) map[string][]byte {
	t.Helper()
	root := filepath.Join("..")
	out := map[string][]byte{}
	for _, md := range []string{"README.md", filepath.Join("docs", "x-backup.md")} {
		b, err := os.ReadFile(filepath.Join(root, md))
		if err != nil {
			continue
		}
		for i, m := range yamlBlockRE.FindAllSubmatch(b, -1) {
			out[fmt.Sprintf("%s block %d", md, i+1)] = m[1]
		}
	}
	for _, dir := range []string{filepath.Join(root, "e2e", "testdata"), "testdata"} {
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			name := d.Name()
			if !strings.HasPrefix(name, "compose") || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
				return nil
			}
			if strings.Contains(name, ".bad-") {
				return nil // an e2e case that is wrong on purpose (compose.bad-*.yaml)
			}
			if dir == "testdata" {
				if _, err := os.Stat(filepath.Join(filepath.Dir(path), "plan.json")); err != nil {
					return nil // an invalid case: wrong on purpose
				}
			}
			if b, err := os.ReadFile(path); err == nil {
				out[path] = b
			}
			return nil
		})
	}
	return out
}

// TestSchemaExamples checks every example's x-backup against the JSON Schema.
func TestSchemaExamples(t *testing.T) {
	project, service := compiled(t)
	for name, src := range examples(t) {
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			if err := yaml.Unmarshal(src, &doc); err != nil {
				t.Fatalf("not YAML: %v", err)
			}
			if v, ok := doc["x-backup"]; ok {
				if err := project.Validate(jsonValue(t, v)); err != nil {
					t.Errorf("x-backup: %v", err)
				}
			}
			services, _ := doc["services"].(map[string]any)
			for svc, raw := range services {
				m, _ := raw.(map[string]any)
				if v, ok := m["x-backup"]; ok {
					if err := service.Validate(jsonValue(t, v)); err != nil {
						t.Errorf("services.%s.x-backup: %v", svc, err)
					}
				}
			}
		})
	}
}

// TestSchemaRejects checks that the schema catches the usual mistakes, and that each
// is told in words at its key path: what was found and what is wanted.
func TestSchemaRejects(t *testing.T) {
	lang, err := compileSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		schema *jsonschema.Schema
		srcs   []string
	}{
		{lang.service, []string{`{verify: []}`, `{strategy: dumb}`, `postgress`, `{colour: blue}`, `{stop: maybe}`, `{filename: a/b}`, `3`,
			`{timeout: soon}`, `{timeout: 5}`, `{exclude: [""]}`, `{exclude: ""}`, `{exclude: [a, " "]}`, `{pre: [[]]}`, `{dump: " "}`, `~`}},
		{lang.project, []string{`{bogus: 1}`, `{parallel: 0}`, `{parallel: "0"}`, `{retention: {}}`, `{password_file: a, password_command: b}`,
			`{verify: {}}`, `{verify: {schedule: "@daily", read_data_subset: 1/5}}`, `{notify: https://x}`, `{notify: [{url: https://x, on: [sometimes]}]}`,
			`{notify: [{on: [failure]}]}`, `{healthcheck: {finish: https://x}}`, `{healthcheck: {}}`, `{docker_socket: run/docker.sock}`, `{host: "a b"}`,
			`{check: {schedule: "@daily", read_data_subset: 250%}}`, `{check: {schedule: "@daily", read_data_subset: 0/5}}`,
			`{check: {schedule: "@daily", read_data_subset: 0%}}`, `[]`,
			`{copies: []}`, `{copies: {Offsite: {repository: a, password_file: b}}}`, `{copies: {a: {}}}`, `{copies: {a: {repository: ""}}}`,
			`{copies: {a: {repository: x, password_file: a, password_command: b}}}`, `{copies: {a: {repository: x, retention: {}}}}`,
			`{copies: {a: {repository: x, colour: blue}}}`, `{copies: {a: b}}`}},
	} {
		for _, src := range tc.srcs {
			var v any
			if err := yaml.Unmarshal([]byte(src), &v); err != nil {
				t.Fatal(err)
			}
			probs := &problems{}
			if bad := lang.check(tc.schema, "x", v, probs); bad == nil {
				t.Errorf("x-backup %s: valid, want invalid", src)
			}
			for _, p := range probs.list {
				if !strings.HasPrefix(p.path, "x") || p.msg == "" || strings.Contains(p.msg, "schema describes") {
					t.Errorf("x-backup %s: %s: %s: not told in words", src, p.path, p.msg)
				}
			}
		}
	}
}

// TestSchemaPresets keeps the schema's presets and the package's in step.
func TestSchemaPresets(t *testing.T) {
	var doc struct {
		Defs struct {
			Preset struct {
				Enum []string `json:"enum"`
			} `json:"preset"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema, &doc); err != nil {
		t.Fatal(err)
	}
	if strings.Join(doc.Defs.Preset.Enum, ",") != strings.Join(presetNames(), ",") {
		t.Errorf("presets: schema %v, package %v", doc.Defs.Preset.Enum, presetNames())
	}
}

// jsonValue turns a YAML value into what the validator expects (JSON numbers).
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
