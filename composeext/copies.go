package composeext

import (
	"sort"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/docker-backup/docker-backup/internal/retention"
)

// CopyPlan is one second repository of x-backup.copies, resolved: the project's
// confirmed snapshots are copied there (docker backup copy), and kept there by the
// copy's own retention.
type CopyPlan struct {
	// Name is the copy's key in x-backup.copies ([a-z0-9][a-z0-9_-]*, as the schema
	// says): it names the copy in commands (copy NAME) and messages.
	Name string `json:"name"`
	// Repository is the copy repository, resolved as x-backup's own is (a relative path
	// against the project directory, password, backend settings), except that flags and
	// DOCKER_BACKUP_* variables set the primary only and no key is ever generated.
	Repository Repository `json:"repository"`
	// Retention is the copy's own policy, applied to every retention group of the
	// project (internal/snapshot); nil: each group keeps what the primary keeps (its
	// service's policy, or the project's).
	Retention *retention.Policy `json:"retention,omitempty"`
	// Schedule is when the scheduler copies on its own; empty: after each scheduled up.
	Schedule string `json:"schedule,omitempty"`
	// MaxLag, when set, is how far the copy may lag the primary (copies.Standing)
	// before the scheduler alerts and status reports it; 0: no such alert.
	MaxLag Duration `json:"max_lag,omitempty"`
}

// Copy returns the copy named name.
func (p *Plan) Copy(name string) (*CopyPlan, bool) {
	for i := range p.Copies {
		if p.Copies[i].Name == name {
			return &p.Copies[i], true
		}
	}
	return nil, false
}

// CopyNames are the copies' names, in order.
func (p *Plan) CopyNames() []string {
	names := make([]string, len(p.Copies))
	for i, c := range p.Copies {
		names[i] = c.Name
	}
	return names
}

// copyDecl is an entry of x-backup.copies as written.
type copyDecl struct {
	Repository      string            `mapstructure:"repository"`
	PasswordFile    string            `mapstructure:"password_file"`
	PasswordCommand command           `mapstructure:"password_command"`
	EnvFiles        []string          `mapstructure:"env_file"`
	Environment     any               `mapstructure:"environment"`
	Retention       *retention.Policy `mapstructure:"retention"`
	Schedule        string            `mapstructure:"schedule"`
	MaxLag          Duration          `mapstructure:"max_lag"`

	// Env is Environment, read.
	Env map[string]string `mapstructure:"-"`
}

// decodeCopies finishes the copies' declarations: their environment and schedule.
func (d *decoder) decodeCopies(base string, copies map[string]copyDecl, lookup func(string) (string, bool)) {
	for name, cd := range copies {
		if cd.Environment != nil {
			cd.Env = environment(cd.Environment, lookup)
		}
		cd.Schedule = d.cronSpec(base+"."+name+".schedule", cd.Schedule)
		if cd.MaxLag != 0 && time.Duration(cd.MaxLag) < time.Second {
			d.probs.addf(base+"."+name+".max_lag", "got %s, want at least 1s (how far the copy may lag the primary, e.g. 26h)", time.Duration(cd.MaxLag))
			cd.MaxLag = 0
		}
		copies[name] = cd
	}
}

// resolveCopies resolves x-backup.copies, sorted by name. primary is the resolved
// primary repository: a copy must be another one.
func (d *decoder) resolveCopies(pd projectDecl, opts LoadOptions, project *types.Project, primary Repository) []CopyPlan {
	names := make([]string, 0, len(pd.Copies))
	for name := range pd.Copies {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []CopyPlan
	seen := map[string]string{}
	for _, name := range names {
		base := "x-backup.copies." + name
		cd := pd.Copies[name]
		if cd.Repository == "" {
			continue // refused by the schema
		}
		repo := d.copyRepository(base, cd, opts, project)
		switch {
		case repo.URL == primary.URL:
			d.probs.addf(base+".repository", "%s is the primary repository (x-backup.repository): a copy must be another repository", repo.Where())
		case seen[repo.URL] != "":
			d.probs.addf(base+".repository", "%s is copy %s's repository too: each copy needs its own", repo.Where(), seen[repo.URL])
		default:
			seen[repo.URL] = name
		}
		out = append(out, CopyPlan{Name: name, Repository: repo, Retention: cd.Retention, Schedule: cd.Schedule, MaxLag: cd.MaxLag})
	}
	return out
}

// copyRepository resolves one copy's repository: its location, backend settings and
// password, each from the copy's own keys.
func (d *decoder) copyRepository(base string, cd copyDecl, opts LoadOptions, project *types.Project) Repository {
	home := project.Environment["HOME"]
	var repo Repository
	repo.URL, repo.Local = d.repositoryURL(cd.Repository, project.WorkingDir, home, repoSource{key: base + ".repository"}, opts.RemoteEngine, project.Name)
	if repo.Local {
		repo.On = OnThisMachine
		if opts.RemoteEngine != "" {
			repo.On, repo.Engine = OnEngineHost, opts.RemoteEngine
		}
	}
	repo.Display = maskURL(repo.URL)
	env := d.backendEnv(base, cd.EnvFiles, cd.Env, project.WorkingDir, envLookup(project.Environment))
	fromFile := takeBackendEnv(&repo, env)
	switch {
	case cd.PasswordFile != "":
		repo.PasswordFile = absFrom(project.WorkingDir, expandHome(cd.PasswordFile, home))
	case cd.PasswordCommand != nil:
		repo.PasswordCommand = cd.PasswordCommand
	case passwordFromEnv(&repo, fromFile, project.WorkingDir, home):
	default:
		// restic's rule: a password you keep. The primary's (and the process's
		// RESTIC_PASSWORD…) are the primary's only: a copy says its own.
		d.probs.addf(base+".password_file", "copy repository %s needs a password (want password_file or password_command, "+
			"or RESTIC_PASSWORD_FILE, RESTIC_PASSWORD_COMMAND or RESTIC_PASSWORD in its env_file or environment)", repo.Where())
	}
	return repo
}

// copyEnvFiles are the env files of the copies, as written.
func copyEnvFiles(pd projectDecl) []string {
	var out []string
	names := make([]string, 0, len(pd.Copies))
	for name := range pd.Copies {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, pd.Copies[name].EnvFiles...)
	}
	return out
}

// RetentionDescribe says what the copy keeps, for plan.
func (c CopyPlan) RetentionDescribe() string {
	if c.Retention == nil {
		return "as the primary's (each service's policy)"
	}
	return c.Retention.Describe()
}
