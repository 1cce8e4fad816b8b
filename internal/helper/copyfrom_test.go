package helper

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/internal/agent"
	"github.com/docker-backup/docker-backup/restic"
)

func TestNeedsServedSource(t *testing.T) {
	keysA := map[string]string{"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "a"}
	keysB := map[string]string{"AWS_ACCESS_KEY_ID": "B", "AWS_SECRET_ACCESS_KEY": "b"}
	tests := []struct {
		name     string
		src, dst Repo
		want     bool
		err      string
	}{
		{"two s3 accounts", Repo{URL: "s3:http://a:9000/x", Env: keysA}, Repo{URL: "s3:http://b:9000/y", Env: keysB}, true, ""},
		{"one s3 account", Repo{URL: "s3:http://a:9000/x", Env: keysA}, Repo{URL: "s3:http://a:9000/y", Env: map[string]string{"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "a", "RESTIC_COMPRESSION": "max"}}, false, ""},
		{"other regions", Repo{URL: "s3:s3.amazonaws.com/x", Env: map[string]string{"AWS_DEFAULT_REGION": "eu-west-1"}}, Repo{URL: "s3:s3.amazonaws.com/y", Env: map[string]string{"AWS_DEFAULT_REGION": "us-east-1"}}, true, ""},
		{"folder into s3", Repo{URL: "/srv/backups", Local: true}, Repo{URL: "s3:http://b:9000/y", Env: keysB}, false, ""},
		{"s3 into a folder", Repo{URL: "s3:http://a:9000/x", Env: keysA}, Repo{URL: "/srv/copy", Local: true}, false, ""},
		{"s3 into b2", Repo{URL: "s3:http://a:9000/x", Env: keysA}, Repo{URL: "b2:bucket:p", Env: map[string]string{"B2_ACCOUNT_ID": "i"}}, false, ""},
		{"rest carries its own credentials", Repo{URL: "rest:https://u:p@a/"}, Repo{URL: "rest:https://v:q@b/"}, false, ""},
		{"two b2 accounts", Repo{URL: "b2:one:p", Env: map[string]string{"B2_ACCOUNT_ID": "i"}}, Repo{URL: "b2:two:p", Env: map[string]string{"B2_ACCOUNT_ID": "j"}}, false, "two b2: repositories with different credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NeedsServedSource(tt.src, tt.dst)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// A copy runner between two S3 accounts runs its copy and init-from helpers as the
// agent's copy-served with restic's arguments; the source's address, credentials and
// password are files, and restic's environment (its secrets as files too) has the
// destination's settings only.
func TestCopyRunnerServesAnotherAccount(t *testing.T) {
	src := &Runner{Image: "img", Project: "shop", Repo: Repo{URL: "s3:http://127.0.0.1:9001/a/src", Password: []byte("srcpass"),
		Env: map[string]string{"AWS_ACCESS_KEY_ID": "SRCKEYID", "AWS_SECRET_ACCESS_KEY": "srcsecret"}}}
	c, err := src.CopyRunner(Repo{URL: "s3:http://127.0.0.1:9002/b/dst", Password: []byte("dstpass"),
		Env: map[string]string{"AWS_ACCESS_KEY_ID": "DSTKEYID", "AWS_SECRET_ACCESS_KEY": "dstsecret"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{restic.KindCopy, restic.KindInitFrom} {
		args := []string{"copy", "--from-repository-file", fromRepositoryFile, "--from-password-file", fromPasswordFile, "abc"}
		spec := c.helperSpec(restic.Invocation{Args: args, Kind: kind, Held: true})
		if !slices.Equal(spec.Entrypoint, servedEntrypoint) {
			t.Errorf("%s: entrypoint %q", kind, spec.Entrypoint)
		}
		if !slices.Equal(spec.Cmd, args) {
			t.Errorf("%s: cmd %q, want %q", kind, spec.Cmd, args)
		}
		if !spec.HoldStdin {
			t.Errorf("%s: a served copy's helper does not hold its input", kind)
		}
		visible := strings.Join(append(append(append(spec.Cmd, spec.Env...), spec.Entrypoint...), spec.Name, spec.Hostname), " ")
		for k, v := range spec.Labels {
			visible += " " + k + "=" + v
		}
		for _, secret := range []string{"srcpass", "SRCKEYID", "srcsecret", "dstpass", "DSTKEYID", "dstsecret", "9001"} {
			if strings.Contains(visible, secret) {
				t.Errorf("%s: %q is visible in the helper's argv, env, name or labels: %s", kind, secret, visible)
			}
		}
		files := map[string]string{}
		for _, f := range spec.Files {
			files[f.Path] = string(f.Data)
			if f.Mode != 0o400 {
				t.Errorf("%s: %s has mode %o", kind, f.Path, f.Mode)
			}
		}
		if files[fromPasswordFile] != "srcpass" {
			t.Errorf("%s: source password file %q", kind, files[fromPasswordFile])
		}
		var from agent.FromSpec
		if err := json.Unmarshal([]byte(files[agent.FromSpecFile]), &from); err != nil || from.Repository != src.Repo.URL || from.Env["AWS_SECRET_ACCESS_KEY"] != "srcsecret" {
			t.Errorf("%s: source spec %q (%v)", kind, files[agent.FromSpecFile], err)
		}
		// restic's own credentials are the destination's only.
		if creds := files[awsCredentialsDir]; !strings.Contains(creds, "dstsecret") || strings.Contains(creds, "srcsecret") || strings.Contains(creds, "SRCKEYID") {
			t.Errorf("%s: restic's credentials file %q", kind, creds)
		}
	}
	// Commands that read the copy alone are plain restic.
	if spec := c.helperSpec(restic.Invocation{Args: []string{"snapshots"}, Kind: "snapshots"}); slices.Equal(spec.Entrypoint, servedEntrypoint) {
		t.Errorf("snapshots of the copy: entrypoint %q", spec.Entrypoint)
	}
}

// One account for both: restic alone, with one environment.
func TestCopyRunnerOneAccountIsPlain(t *testing.T) {
	keys := map[string]string{"AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "s"}
	src := &Runner{Image: "img", Project: "shop", Repo: Repo{URL: "s3:http://127.0.0.1:9001/a/src", Password: []byte("p"), Env: keys}}
	c, err := src.CopyRunner(Repo{URL: "s3:http://127.0.0.1:9001/a/dst", Password: []byte("q"), Env: keys})
	if err != nil {
		t.Fatal(err)
	}
	spec := c.helperSpec(restic.Invocation{Args: []string{"copy"}, Kind: restic.KindCopy, Held: true})
	if slices.Equal(spec.Entrypoint, servedEntrypoint) {
		t.Errorf("entrypoint %q: one account needs no served source", spec.Entrypoint)
	}
}

// Two accounts of a backend the agent does not serve: one line saying so.
func TestCopyRunnerRefusesTwoB2Accounts(t *testing.T) {
	src := &Runner{Repo: Repo{URL: "b2:one:p", Env: map[string]string{"B2_ACCOUNT_ID": "i", "B2_ACCOUNT_KEY": "k"}}}
	_, err := src.CopyRunner(Repo{URL: "b2:two:p", Env: map[string]string{"B2_ACCOUNT_ID": "j", "B2_ACCOUNT_KEY": "l"}})
	if err == nil || !strings.Contains(err.Error(), "s3: only") {
		t.Fatalf("error %v", err)
	}
}
