package composeext

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
)

// remotePrefixes are restic's backends other than a local folder.
var remotePrefixes = []string{"s3:", "sftp:", "rest:", "b2:", "azure:", "gs:", "rclone:", "swift:"}

// passwordVars are restic's password variables, which we read rather than pass on.
var passwordVars = []string{"RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND", "RESTIC_PASSWORD"}

// resolveRepository applies flag > environment > file > default to the repository and its
// password, and reads the backend's environment.
func (d *decoder) resolveRepository(pd projectDecl, opts LoadOptions, project *types.Project) Repository {
	const base = "x-backup"
	cwd, projectDir := opts.WorkingDir, project.WorkingDir
	env := project.Environment
	home := env["HOME"]

	var repo Repository
	isDefault := false
	switch {
	case opts.Repository != "":
		repo.URL, repo.Local = repositoryURL(opts.Repository, cwd, home)
	case env["DOCKER_BACKUP_REPOSITORY"] != "":
		repo.URL, repo.Local = repositoryURL(env["DOCKER_BACKUP_REPOSITORY"], cwd, home)
	case pd.Repository != "":
		repo.URL, repo.Local = repositoryURL(pd.Repository, projectDir, home)
	default:
		repo.URL, repo.Local = filepath.Join(dirOfFirst(project), DefaultRepositoryDir), true
		isDefault, repo.Default = true, true
	}
	repo.Display = maskURL(repo.URL)

	repo.Env = d.backendEnv(base, pd, projectDir, envLookup(env))
	fromFile := map[string]string{}
	for _, k := range passwordVars {
		if v, ok := repo.Env[k]; ok {
			fromFile[k] = v
			delete(repo.Env, k)
		}
	}
	for k := range repo.Env {
		repo.EnvNames = append(repo.EnvNames, k)
	}
	sort.Strings(repo.EnvNames)
	if len(repo.Env) == 0 {
		repo.Env = nil
	}

	switch {
	case opts.PasswordFile != "":
		repo.PasswordFile = absFrom(cwd, expandHome(opts.PasswordFile, home))
	case env["DOCKER_BACKUP_PASSWORD_FILE"] != "":
		repo.PasswordFile = absFrom(cwd, expandHome(env["DOCKER_BACKUP_PASSWORD_FILE"], home))
	case pd.PasswordFile != "":
		repo.PasswordFile = absFrom(projectDir, expandHome(pd.PasswordFile, home))
	case pd.PasswordCommand != nil:
		repo.PasswordCommand = pd.PasswordCommand
	case !passwordFromEnv(&repo, fromFile, projectDir, home) && !passwordFromEnv(&repo, env, cwd, home):
		if isDefault {
			repo.GeneratePassword = true
			repo.PasswordFile = repo.URL + ".key"
			break
		}
		d.probs.addf(base+".password_file", "repository %s needs a password (want password_file or password_command, "+
			"--password-file, DOCKER_BACKUP_PASSWORD_FILE, RESTIC_PASSWORD_FILE or RESTIC_PASSWORD)", repo.Display)
	}
	return repo
}

// passwordFromEnv takes the password from restic's own variables in env, if set.
func passwordFromEnv(repo *Repository, env map[string]string, dir, home string) bool {
	switch {
	case env["RESTIC_PASSWORD_FILE"] != "":
		repo.PasswordFile = absFrom(dir, expandHome(env["RESTIC_PASSWORD_FILE"], home))
	case env["RESTIC_PASSWORD_COMMAND"] != "":
		repo.PasswordCommand = []string{"sh", "-c", env["RESTIC_PASSWORD_COMMAND"]}
	case env["RESTIC_PASSWORD"] != "":
		repo.Password = env["RESTIC_PASSWORD"]
	default:
		return false
	}
	return true
}

// backendEnv reads env_file then environment (which wins), compose's precedence.
func (d *decoder) backendEnv(base string, pd projectDecl, projectDir string, lookup func(string) (string, bool)) map[string]string {
	out := map[string]string{}
	for i, f := range pd.EnvFiles {
		path := absFrom(projectDir, f)
		vars, err := dotenv.ReadWithLookup(lookup, path)
		if err != nil {
			key := base + ".env_file"
			if len(pd.EnvFiles) > 1 {
				key = fmt.Sprintf("%s.env_file[%d]", base, i)
			}
			if os.IsNotExist(err) {
				d.probs.addf(key, "%s: no such file", f)
			} else {
				d.probs.addf(key, "reading %s: %v", f, err)
			}
			continue
		}
		for k, v := range vars {
			out[k] = v
		}
	}
	for k, v := range pd.Environment {
		out[k] = v
	}
	return out
}

// repositoryURL resolves a restic repository string: a local one (a path, or local:path)
// becomes an absolute path against dir; remote ones are kept as written.
func repositoryURL(s, dir, home string) (string, bool) {
	for _, p := range remotePrefixes {
		if strings.HasPrefix(s, p) {
			return s, false
		}
	}
	s = strings.TrimPrefix(s, "local:")
	return absFrom(dir, expandHome(s, home)), true
}

// expandHome expands a leading ~/ as compose does for bind mounts.
func expandHome(path, home string) string {
	if home != "" && (path == "~" || strings.HasPrefix(path, "~/")) {
		return filepath.Join(home, path[1:])
	}
	return path
}

// maskURL hides a password in a repository URL's user information
// (rest:https://user:secret@host/ → rest:https://user:***@host/).
func maskURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return s
	}
	return s[:i+3] + user + ":***" + rest[at:]
}
