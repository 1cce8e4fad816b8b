package arch

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/docker-backup/docker-backup/"

// allowed lists, for each package, the packages of ours it may import
// (docs/architecture.md, "Who may import whom").
var allowed = map[string][]string{
	"snapshot":          {"restic"},
	"restic":            {},
	"engine":            {},
	"engine/enginetest": {"agent", "dump", "engine"},
	"dump":              {},
	"composeext":        {"snapshot"},
	"agent":             {"dump", "engine", "restic", "swap"},
	"swap":              {},
	"agentimage":        {"engine"},
	"run":               {"agent", "agentimage", "composeext", "dump", "engine", "restic", "snapshot"},
	"backup":            {"composeext", "dump", "engine", "report", "restic", "run", "snapshot"},
	"report":            {},
	"notify":            {"composeext", "report", "restic"},
	"metrics":           {"report"},
	"restore":           {"agent", "composeext", "dump", "engine", "restic", "run", "snapshot"},
	"verify":            {"composeext", "engine", "report", "restic", "restore", "run", "snapshot"},
	"plugin":            {"agentimage", "backup", "composeext", "engine", "metrics", "notify", "report", "restic", "restore", "run", "schedule", "snapshot", "verify"},
	"schedule":          {"report", "swap"},
	"cmd/docker-backup": {"agent", "plugin"},
	"arch":              {},
}

// TestImportRules keeps the package graph as documented: verbs (backup, restore) are
// peers that never import each other, restic knows nothing of Docker, and only the
// engine package talks to the Docker API.
func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "e2e") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		seen[pkg] = true
		rules, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in docs/architecture.md's import rules (add it there and here)", pkg)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if strings.HasPrefix(p, module) && !slices.Contains(rules, strings.TrimPrefix(p, module)) {
				t.Errorf("%s imports %s, which its rules do not allow", strings.TrimPrefix(path, root+"/"), p)
			}
			if strings.HasPrefix(p, "github.com/moby/moby/client") && pkg != "engine" && pkg != "engine/enginetest" {
				t.Errorf("%s talks to the Docker API directly; only engine does", strings.TrimPrefix(path, root+"/"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen["run"] || !seen["engine"] {
		t.Fatalf("walked the wrong tree: saw %v", seen)
	}
}
