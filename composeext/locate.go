package composeext

import (
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"
)

// fileLocator returns a function naming the compose file that holds a key path: the
// last file (overrides win) whose YAML has that key, else the first file. Files are read
// only when a problem is reported.
func fileLocator(files []string) func(path string) string {
	var docs []map[string]any
	loaded := false
	return func(path string) string {
		if len(files) == 0 {
			return "compose.yaml"
		}
		if !loaded {
			loaded = true
			for _, f := range files {
				var doc map[string]any
				if b, err := os.ReadFile(f); err == nil {
					_ = yaml.Unmarshal(b, &doc) // unreadable: compose-go already said so
				}
				docs = append(docs, doc)
			}
		}
		for i := len(files) - 1; i >= 0; i-- {
			if hasPath(docs[i], path) {
				return filepath.Base(files[i])
			}
		}
		return filepath.Base(files[0])
	}
}

// hasPath reports whether a YAML document holds a dotted key path; keys may themselves
// hold dots (service names can), and a path ends at a list index ("volumes[0]").
func hasPath(v any, path string) bool {
	if path == "" || strings.HasPrefix(path, "[") {
		return true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k, child := range m {
		if !strings.HasPrefix(path, k) {
			continue
		}
		rest := path[len(k):]
		switch {
		case rest == "" || strings.HasPrefix(rest, "["):
			return true
		case strings.HasPrefix(rest, ".") && hasPath(child, rest[1:]):
			return true
		}
	}
	return false
}
