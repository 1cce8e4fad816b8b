package arch

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/docker-backup/docker-backup/"

// layers lists docker-backup's packages from the bottom up (docs/architecture.md,
// "Layers"). A package may import only packages of a lower layer: never one of its own
// layer, never one above.
var layers = [][]string{
	// Small tools of the standard library's kind: an error type, a durable file write.
	{"internal/failure", "internal/atomicfile"},
	// Adapters to what runs outside us, and leaf models.
	{"restic", "internal/engine", "internal/dump", "internal/swap"},
	// Repository series, the program inside helper containers, and how an operation
	// ended (report: a backup's outcome holds restic's summary).
	{"internal/snapshot", "internal/agent", "internal/agentimage", "internal/report"},
	// Features that own their part of x-backup: type, defaults, validation and behaviour.
	{"internal/schedule", "internal/metrics", "internal/notify", "internal/retention", "internal/engine/enginetest"},
	// Loads a compose project and routes each part of x-backup to the feature that owns it.
	{"composeext"},
	// Helper containers that run restic and the agent; the run's lifecycle above them.
	{"internal/helper"},
	{"internal/run"},
	// The operations on one project's services.
	{"internal/backup", "internal/restore", "internal/copies"},
	{"internal/verify"},
	// The application layer: one use case a command, one event model.
	{"internal/app"},
	// The command line, and the binary.
	{"plugin"},
	{"cmd/docker-backup"},
}

// free packages hold no production code and import nothing of ours.
var free = map[string]bool{"internal/arch": true}

// TestImportRules keeps the package graph layered as documented, keeps restic free of
// Docker, and lets only the engine package talk to the Docker API.
func TestImportRules(t *testing.T) {
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			layerOf[p] = i
		}
	}
	root, err := filepath.Abs("../..")
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
		if free[pkg] {
			return nil
		}
		mine, known := layerOf[pkg]
		if !known {
			t.Errorf("package %s is in no layer (add it to docs/architecture.md's layers and here)", pkg)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		file := strings.TrimPrefix(path, root+"/")
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if strings.HasPrefix(p, module) {
				dep := strings.TrimPrefix(p, module)
				theirs, known := layerOf[dep]
				switch {
				case !known:
					t.Errorf("%s imports %s, which is in no layer", file, dep)
				case theirs >= mine:
					t.Errorf("%s (layer %d) imports %s (layer %d): a package imports only lower layers", file, mine, dep, theirs)
				}
			}
			if strings.HasPrefix(p, "github.com/moby/moby/client") && pkg != "internal/engine" && pkg != "internal/engine/enginetest" {
				t.Errorf("%s talks to the Docker API directly; only internal/engine does", file)
			}
			if pkg == "restic" && strings.Contains(p, "docker") && !strings.HasPrefix(p, module) {
				t.Errorf("%s imports %s: restic knows nothing of Docker", file, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !seen["internal/run"] || !seen["internal/engine"] {
		t.Fatalf("walked the wrong tree: saw %v", seen)
	}
}
