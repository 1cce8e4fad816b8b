package composeext

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCase is testdata/<case>/case.json: how to call Load for the case. Every field is
// optional; paths are relative to the case folder.
type goldenCase struct {
	Cwd              string   `json:"cwd"`
	Files            []string `json:"files"`
	ProjectName      string   `json:"project_name"`
	ProjectDirectory string   `json:"project_directory"`
	EnvFiles         []string `json:"env_files"`
	Profiles         []string `json:"profiles"`
	Env              []string `json:"env"`
	Repository       string   `json:"repo"`
	PasswordFile     string   `json:"password_file"`
	Image            string   `json:"image"`
	Select           []string `json:"select"`
	RemoteEngine     string   `json:"remote_engine"`
}

// TestLoadGolden loads every testdata/<case> and compares the plan (plan.json) or the
// error (error.txt) with the golden file. Absolute paths are written as $DIR.
func TestLoadGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			var c goldenCase
			if b, err := os.ReadFile(filepath.Join(dir, "case.json")); err == nil {
				if err := json.Unmarshal(b, &c); err != nil {
					t.Fatalf("case.json: %v", err)
				}
			}
			plan, err := Load(context.Background(), LoadOptions{
				Files:            c.Files,
				ProjectName:      c.ProjectName,
				ProjectDirectory: c.ProjectDirectory,
				EnvFiles:         c.EnvFiles,
				Profiles:         c.Profiles,
				WorkingDir:       filepath.Join(abs, c.Cwd),
				Environ:          append([]string{"HOME=/home/user"}, c.Env...),
				Repository:       c.Repository,
				PasswordFile:     c.PasswordFile,
				Image:            c.Image,
				RemoteEngine:     c.RemoteEngine,
			})
			if err == nil && c.Select != nil {
				plan, err = plan.Select(c.Select)
			}
			var got []byte
			name := "plan.json"
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error does not wrap ErrInvalid: %v", err)
				}
				name, got = "error.txt", []byte(err.Error()+"\n")
			} else {
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(plan); err != nil {
					t.Fatal(err)
				}
				got = buf.Bytes()
			}
			got = bytes.ReplaceAll(got, []byte(abs), []byte("$DIR"))
			compareGolden(t, filepath.Join(dir, name), got)
			other := map[string]string{"plan.json": "error.txt", "error.txt": "plan.json"}[name]
			if _, err := os.Stat(filepath.Join(dir, other)); err == nil {
				if *update {
					_ = os.Remove(filepath.Join(dir, other))
				} else {
					t.Errorf("got %s, but the case expects %s:\n%s", name, other, got)
				}
			}
		})
	}
}

// compareGolden compares got with a golden file, or rewrites it with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./composeext -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update and review the diff)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
