package composeext

import (
	"fmt"
	"os"
	"path"
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
	repo := d.repositoryLocation(pd, opts, project)
	if repo.Local {
		repo.On = OnThisMachine
		if opts.RemoteEngine != "" {
			repo.On, repo.Engine = OnEngineHost, opts.RemoteEngine
		}
	}
	repo.Display = maskURL(repo.URL)
	fromFile := d.backendSettings(&repo, pd, project)
	d.repositoryPassword(&repo, pd, opts, project, fromFile)
	return repo
}

// repositoryLocation decides the repository's URL: --repo, DOCKER_BACKUP_REPOSITORY,
// x-backup.repository, else backups/ beside the compose file.
func (d *decoder) repositoryLocation(pd projectDecl, opts LoadOptions, project *types.Project) Repository {
	const key = "x-backup.repository"
	env, home := project.Environment, project.Environment["HOME"]
	var repo Repository
	switch {
	case opts.Repository != "":
		repo.URL, repo.Local = d.repositoryURL(opts.Repository, opts.WorkingDir, home, repoSource{name: "--repo"}, opts.RemoteEngine, project.Name)
	case env["DOCKER_BACKUP_REPOSITORY"] != "":
		repo.URL, repo.Local = d.repositoryURL(env["DOCKER_BACKUP_REPOSITORY"], opts.WorkingDir, home, repoSource{name: "DOCKER_BACKUP_REPOSITORY"}, opts.RemoteEngine, project.Name)
	case pd.Repository != "":
		repo.URL, repo.Local = d.repositoryURL(pd.Repository, project.WorkingDir, home, repoSource{key: key}, opts.RemoteEngine, project.Name)
	case opts.RemoteEngine != "":
		// backups/ beside the compose file is a folder of this machine, and the engine's
		// helpers would mount the same path on theirs.
		d.refuseRelative(repoSource{key: key}, fmt.Sprintf("the default %q", "./"+DefaultRepositoryDir), opts.RemoteEngine, project.Name)
		repo.URL, repo.Local, repo.Default = "./"+DefaultRepositoryDir, true, true
	default:
		repo.URL, repo.Local, repo.Default = filepath.Join(dirOfFirst(project), DefaultRepositoryDir), true, true
	}
	return repo
}

// backendSettings reads x-backup.env_file and .environment into repo.Env, and returns
// restic's password variables found there, which are not passed on.
func (d *decoder) backendSettings(repo *Repository, pd projectDecl, project *types.Project) map[string]string {
	env := d.backendEnv("x-backup", pd.EnvFiles, pd.Env, project.WorkingDir, envLookup(project.Environment))
	return takeBackendEnv(repo, env)
}

// takeBackendEnv sets repo.Env and repo.EnvNames to env less restic's password
// variables, which it returns.
func takeBackendEnv(repo *Repository, env map[string]string) map[string]string {
	repo.Env = env
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
	return fromFile
}

// repositoryPassword decides where the password comes from: --password-file,
// DOCKER_BACKUP_PASSWORD_FILE, x-backup.password_file or .password_command, restic's
// variables (of the backend's settings, then of the environment), else a generated key
// for the default repository.
func (d *decoder) repositoryPassword(repo *Repository, pd projectDecl, opts LoadOptions, project *types.Project, fromFile map[string]string) {
	cwd, projectDir := opts.WorkingDir, project.WorkingDir
	env, home := project.Environment, project.Environment["HOME"]
	switch {
	case opts.PasswordFile != "":
		repo.PasswordFile = absFrom(cwd, expandHome(opts.PasswordFile, home))
	case env["DOCKER_BACKUP_PASSWORD_FILE"] != "":
		repo.PasswordFile = absFrom(cwd, expandHome(env["DOCKER_BACKUP_PASSWORD_FILE"], home))
	case pd.PasswordFile != "":
		repo.PasswordFile = absFrom(projectDir, expandHome(pd.PasswordFile, home))
	case pd.PasswordCommand != nil:
		repo.PasswordCommand = pd.PasswordCommand
	case !passwordFromEnv(repo, fromFile, projectDir, home) && !passwordFromEnv(repo, env, cwd, home):
		d.noPassword(repo, opts.RemoteEngine != "")
	}
}

// noPassword handles a repository for which no password is configured: the default
// local one gets a generated key; any other is refused.
func (d *decoder) noPassword(repo *Repository, remoteEngine bool) {
	const key = "x-backup.password_file"
	switch {
	case repo.Default && remoteEngine:
		// Refused by repositoryLocation: one line is enough.
	case repo.Default:
		repo.GeneratePassword = true
		repo.PasswordFile = repo.URL + ".key"
	case repo.OnEngine():
		// A key generated on this machine would be a copy the engine's host never
		// has, and one generated there would sit beside the data it protects on a
		// machine we do not see: restic's rule, a password you keep, applies.
		d.probs.addf(key, "repository %s needs a password: none is generated for a folder of another machine "+
			"(want password_file or password_command, read on this machine, --password-file, DOCKER_BACKUP_PASSWORD_FILE, "+
			"RESTIC_PASSWORD_FILE or RESTIC_PASSWORD)", repo.Where())
	default:
		d.probs.addf(key, "repository %s needs a password (want password_file or password_command, "+
			"--password-file, DOCKER_BACKUP_PASSWORD_FILE, RESTIC_PASSWORD_FILE or RESTIC_PASSWORD)", repo.Display)
	}
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
func (d *decoder) backendEnv(base string, envFiles []string, env map[string]string, projectDir string, lookup func(string) (string, bool)) map[string]string {
	out := map[string]string{}
	for i, f := range envFiles {
		path := absFrom(projectDir, f)
		vars, err := dotenv.ReadWithLookup(lookup, path)
		if err != nil {
			key := base + ".env_file"
			if len(envFiles) > 1 {
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
	for k, v := range env {
		out[k] = v
	}
	return out
}

// repoSource says where the repository string was given, for messages: a key of the
// compose file, or a flag or environment variable.
type repoSource struct{ key, name string }

// repositoryURL resolves a restic repository string: a local one (a path, or local:path)
// becomes an absolute path against dir; remote ones are kept as written. With a remote
// engine (remoteEngine, its endpoint) a local path is one of the engine's host: it is
// taken as written when absolute, and refused when relative, since dir and home are
// this machine's.
func (d *decoder) repositoryURL(s, dir, home string, from repoSource, remoteEngine, project string) (string, bool) {
	for _, p := range remotePrefixes {
		if strings.HasPrefix(s, p) {
			return s, false
		}
	}
	written := s
	s = strings.TrimPrefix(s, "local:")
	if remoteEngine == "" {
		return absFrom(dir, expandHome(s, home)), true
	}
	if !engineAbs(s) {
		d.refuseRelative(from, fmt.Sprintf("%q", written), remoteEngine, project)
		return s, true
	}
	if strings.HasPrefix(s, "/") {
		s = path.Clean(s)
	}
	return s, true
}

// refuseRelative reports a relative local repository with a remote engine.
func (d *decoder) refuseRelative(from repoSource, what, remoteEngine, project string) {
	msg := fmt.Sprintf("%s is relative, but the engine (%s) is on another machine: give an absolute path on the engine's host "+
		"(e.g. /srv/backups/%s) or a remote backend (s3:…, sftp:…, rest:…)", what, remoteEngine, project)
	if from.key != "" {
		d.probs.addf(from.key, "%s", msg)
		return
	}
	d.probs.addf("", "%s: %s", from.name, msg)
}

// engineAbs reports whether s is an absolute path on an engine's host, whatever this
// machine's system: /srv/backups, or C:\backups for a Windows engine.
func engineAbs(s string) bool {
	if strings.HasPrefix(s, "/") {
		return true
	}
	return len(s) >= 3 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') &&
		(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
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
