package composeext

import (
	"path/filepath"
	"regexp"
	"slices"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/docker-backup/docker-backup/internal/notify"
	"github.com/docker-backup/docker-backup/internal/retention"
	"github.com/docker-backup/docker-backup/internal/snapshot"
)

// hostNameRE is what DOCKER_BACKUP_HOST may be, as the schema says of x-backup.host: it
// becomes part of restic's --host.
var hostNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

// Defaults that apply when neither flags, environment nor the compose file say otherwise.
const (
	// DefaultImage is the restic helper image, pinned.
	DefaultImage = "restic/restic:0.18.1"
	// DefaultDockerSocket is the engine's API socket on its host (rootful engines).
	DefaultDockerSocket = "/var/run/docker.sock"
	// DefaultParallel is how many services are backed up at once.
	DefaultParallel = 2
	// DefaultRepositoryDir is the local repository's folder beside the first compose file.
	DefaultRepositoryDir = "backups"
	// extensionKey is the compose extension we read.
	extensionKey = "x-backup"
)

// resolve turns a loaded project into a plan, collecting every problem.
func resolve(project *types.Project, opts LoadOptions) (*Plan, error) {
	lang, err := compileSchema()
	if err != nil {
		return nil, err
	}
	d := &decoder{probs: &problems{}, lang: lang}
	env := envLookup(project.Environment)
	pd := d.decodeProject(project.Extensions[extensionKey], env)

	plan := &Plan{
		Project:      project.Name,
		WorkingDir:   project.WorkingDir,
		ComposeFiles: project.ComposeFiles,
		Image:        override(opts.Image, project.Environment["DOCKER_BACKUP_IMAGE"], pd.Image, DefaultImage),
		AgentImage:   override(opts.AgentImage, project.Environment["DOCKER_BACKUP_AGENT_IMAGE"], pd.AgentImage),
		Host:         override(project.Environment["DOCKER_BACKUP_HOST"], pd.Host),
		Parallel:     DefaultParallel,
		Schedule:     pd.Schedule,
		Check:        pd.Check,
		Prune:        pd.Prune,
		Verify:       pd.Verify,
		Retention:    pd.Retention,
		Notify:       pd.Notify,
		Healthcheck:  pd.Healthcheck,
		Metrics:      pd.Metrics,
		Services:     []ServicePlan{},
	}
	if pd.Parallel > 0 {
		plan.Parallel = pd.Parallel
	}
	plan.DockerSocket, plan.DockerSocketSetting, plan.DockerSocketDefault = dockerSocket(opts, project, pd)
	if h := project.Environment["DOCKER_BACKUP_HOST"]; h != "" && !hostNameRE.MatchString(h) {
		d.probs.addf("x-backup.host", "DOCKER_BACKUP_HOST=%q is not a machine name (want letters, digits, '.', '_' or '-', starting with a letter or digit)", h)
	}
	plan.Repository = d.resolveRepository(pd, opts, project)
	plan.Copies = d.resolveCopies(pd, opts, project, plan.Repository)
	prot := protectedPaths(plan)

	for _, name := range sortedNames(project.Services) {
		svc := project.Services[name]
		raw, declared := svc.Extensions[extensionKey]
		if !declared {
			if keys := unprotectedMounts(project, name, svc); len(keys) > 0 {
				plan.Unprotected = append(plan.Unprotected, Unprotected{Service: name, Mounts: keys})
			}
			continue
		}
		base := serviceBase(name)
		sd, ok := d.decodeService(base, raw)
		if !ok {
			continue
		}
		plan.Services = append(plan.Services, d.resolveService(project, name, svc, sd, pd.Retention, prot))
	}
	// Services outside the active profiles are not planned, but their declarations are
	// still checked so that a mistake does not wait for the profile to be enabled.
	for _, name := range sortedNames(project.DisabledServices) {
		if raw, ok := project.DisabledServices[name].Extensions[extensionKey]; ok {
			d.decodeService(serviceBase(name), raw)
		}
	}
	if err := d.probs.err(fileLocator(project.ComposeFiles)); err != nil {
		return nil, err
	}
	plan.ReadFiles = readFiles(project, pd)
	repos := []Repository{plan.Repository}
	for _, c := range plan.Copies {
		repos = append(repos, c.Repository)
	}
	plan.Secrets = collectSecrets(project, repos...)
	plan.addNotifySecrets()
	return plan, nil
}

// addNotifySecrets adds the notify and healthcheck secrets to p.Secrets, longest first.
func (p *Plan) addNotifySecrets() {
	for _, s := range (notify.Config{Targets: p.Notify, Healthcheck: p.Healthcheck}).Secrets() {
		if !slices.Contains(p.Secrets, s) {
			p.Secrets = append(p.Secrets, s)
		}
	}
	sort.SliceStable(p.Secrets, func(i, j int) bool { return len(p.Secrets[i]) > len(p.Secrets[j]) })
}

// resolveService resolves one declared service.
func (d *decoder) resolveService(project *types.Project, name string, svc types.ServiceConfig, sd serviceDecl, projectRetention *retention.Policy, prot []protectedPath) ServicePlan {
	base := serviceBase(name)
	sp := ServicePlan{
		Name:      name,
		Strategy:  sd.Strategy,
		Preset:    sd.Preset,
		Exclude:   sd.Exclude,
		Stop:      sd.Stop,
		Pre:       sd.Pre.argvs(),
		Post:      sd.Post.argvs(),
		OnSuccess: sd.OnSuccess.argvs(),
		OnFailure: sd.OnFailure.argvs(),
		Timeout:   sd.Timeout,
		Retention: sd.Retention,
		Verify:    sd.Verify,
	}
	if sp.Retention == nil {
		sp.Retention = projectRetention
	}
	var keys []string
	switch sd.Strategy {
	case StrategyVolumes:
		sp.Volumes = d.selectMounts(base, project, name, svc, sd.Volumes)
		sp.ExcludePaths = d.translateExcludes(base, sp.Volumes, sd.Exclude)
		d.protectMounts(base, sp.Volumes, sp.ExcludePaths, prot)
		for _, m := range sp.Volumes {
			keys = append(keys, m.Key)
		}
	case StrategyDump:
		spec := &DumpSpec{Command: sd.Dump, Restore: sd.Restore, Filename: sd.Filename, User: sd.User}
		if sd.Preset != "" {
			applyPreset(d, base, name, sd, svc, spec)
		} else if spec.Filename == "" {
			spec.Filename = name + ".dump"
		}
		sp.Dump = spec
	}
	sp.Tags = snapshot.ServiceTags(project.Name, name, string(sd.Strategy), keys)
	return sp
}

// override picks the first non-empty value: flag, environment, file, default.
func override(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// envLookup looks a variable up in the project's environment.
func envLookup(env types.Mapping) func(string) (string, bool) {
	return func(key string) (string, bool) {
		v, ok := env[key]
		return v, ok
	}
}

// sortedNames returns a services map's names in order.
func sortedNames(services types.Services) []string {
	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// dirOfFirst is the folder of the first compose file, where the default repository lives.
func dirOfFirst(project *types.Project) string {
	for _, f := range project.ComposeFiles {
		if f != "-" {
			return filepath.Dir(f)
		}
	}
	return project.WorkingDir
}

// readFiles are the files besides the compose files that loading project read: the env
// files of x-backup, of its copies and of its services, each once, in order.
func readFiles(project *types.Project, pd projectDecl) []string {
	var out []string
	add := func(path string) {
		if !slices.Contains(out, path) {
			out = append(out, path)
		}
	}
	for _, f := range append(slices.Clone(pd.EnvFiles), copyEnvFiles(pd)...) {
		add(absFrom(project.WorkingDir, f))
	}
	for _, name := range sortedNames(project.Services) {
		for _, f := range project.Services[name].EnvFiles {
			add(absFrom(project.WorkingDir, f.Path))
		}
	}
	return out
}
