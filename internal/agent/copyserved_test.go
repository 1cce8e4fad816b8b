package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// copy-served serves the source and hands restic its address as a file, before
// restic's own arguments; restic's environment is left as it is.
func TestServedCopyServesTheSource(t *testing.T) {
	var gotArgs []string
	var config string
	start := func(args []string, rio ResticIO) (*Child, error) {
		gotArgs = args
		i := slices.Index(args, "--from-repository-file")
		if i < 0 {
			t.Fatalf("restic args %q: no --from-repository-file", args)
		}
		data, err := readFileString(args[i+1])
		if err != nil {
			t.Fatal(err)
		}
		u := strings.TrimSpace(strings.TrimPrefix(data, "rest:"))
		resp, err := http.Get(u + "config")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		config = string(b)
		return &Child{Wait: func() int { return 0 }, Stop: func() bool { return false }}, nil
	}
	spec, _ := json.Marshal(FromSpec{Repository: "s3:http://127.0.0.1:1/b", Env: map[string]string{"AWS_ACCESS_KEY_ID": "A"}})
	var opened FromSpec
	cmd := servedCopy(func(s FromSpec) (Store, error) { opened = s; return testRepoStore(), nil })
	var out bytes.Buffer
	err := cmd(context.Background(), []string{"copy", "--json", snapID}, Env{
		Streams:     Streams{In: strings.NewReader(""), Out: &out, Err: &out},
		StartRestic: start,
		ReadFile: func(name string) ([]byte, error) {
			if name != FromSpecFile {
				t.Fatalf("read %s", name)
			}
			return spec, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if opened.Repository != "s3:http://127.0.0.1:1/b" || opened.Env["AWS_ACCESS_KEY_ID"] != "A" {
		t.Errorf("opened %+v", opened)
	}
	if gotArgs[0] != "copy" || !slices.Equal(gotArgs[3:], []string{"--json", snapID}) {
		t.Errorf("restic args %q", gotArgs)
	}
	if config != "CONFIG" {
		t.Errorf("the served config is %q", config)
	}
}

func TestFromServed(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"copy", "--json", "a"}, []string{"copy", "--from-repository-file", "F", "--json", "a"}},
		{[]string{"copy", "--from-repository-file", "/run/x", "--from-password-file", "P", "a"}, []string{"copy", "--from-repository-file", "F", "--from-password-file", "P", "a"}},
		{[]string{"init", "--from-repo=s3:x", "--copy-chunker-params"}, []string{"init", "--from-repository-file", "F", "--copy-chunker-params"}},
	}
	for _, tt := range tests {
		if got := fromServed(tt.in, "F"); !slices.Equal(got, tt.want) {
			t.Errorf("fromServed(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The end of the agent's input interrupts restic (SIGINT: it removes its locks, the
// source's read lock among them) while the source is still served; the agent exits
// with restic's code.
func TestServedCopyEndsWithItsInput(t *testing.T) {
	environ, r := interruptibleRestic(t)
	spec, _ := json.Marshal(FromSpec{Repository: "s3:http://127.0.0.1:1/b"})
	var out bytes.Buffer
	err := servedCopy(func(FromSpec) (Store, error) { return testRepoStore(), nil })(context.Background(), []string{"copy", "x"}, Env{
		Streams:     Streams{In: r, Out: &out, Err: &out},
		StartRestic: func(args []string, rio ResticIO) (*Child, error) { return startRestic(environ, args, rio) },
		ReadFile:    func(string) ([]byte, error) { return spec, nil },
	})
	var status exitStatus
	if !errors.As(err, &status) || status != 130 || !strings.Contains(out.String(), "interrupted") {
		t.Fatalf("error %v, output %q: want restic interrupted (130)", err, out.String())
	}
}
