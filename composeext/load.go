// Package composeext loads a compose project with its x-backup declarations and resolves
// them into a Plan: what to back up, how, and where to. It needs no Docker engine.
package composeext

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadOptions are docker compose's project options plus our overrides.
type LoadOptions struct {
	Files            []string // -f, repeatable; empty: COMPOSE_FILE, else default names walking up parents
	ProjectName      string   // -p; else COMPOSE_PROJECT_NAME, else compose's default
	ProjectDirectory string   // --project-directory
	EnvFiles         []string // --env-file
	Profiles         []string // --profile; else COMPOSE_PROFILES
	WorkingDir       string   // the process's cwd (do not call os.Getwd inside the package)
	Environ          []string // os.Environ() of the process (do not read os env inside the package)
	Repository       string   // --repo flag (empty = not given)
	PasswordFile     string   // --password-file flag
	Image            string   // --image flag
	AgentImage       string   // --agent-image flag
	DockerSocket     string   // --docker-socket flag
	// RemoteEngine is the engine's endpoint (masked, for messages) when the engine may run
	// on another machine (tcp://, ssh://); empty for a local socket. A local repository is
	// then a folder of the engine's host: it must be absolute and is not resolved here.
	RemoteEngine string
}

// Load reads the compose project the way docker compose does and resolves its backup
// plan. Every configuration problem is reported at once in one error wrapping ErrInvalid.
func Load(ctx context.Context, opts LoadOptions) (*Plan, error) {
	if !filepath.IsAbs(opts.WorkingDir) {
		return nil, fmt.Errorf("loading the compose project: working directory %q is not absolute", opts.WorkingDir)
	}
	project, err := loadProject(ctx, opts)
	if err != nil {
		return nil, err
	}
	return resolve(project, opts)
}

// loadProject loads the compose project with docker compose's option order, keeping the
// process's working directory and environment out of it: both come from opts.
func loadProject(ctx context.Context, opts LoadOptions) (*types.Project, error) {
	cwd := opts.WorkingDir
	files := make([]string, 0, len(opts.Files))
	for _, f := range opts.Files {
		if f == "-" {
			files = append(files, f)
			continue
		}
		abs := absFrom(cwd, f)
		if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
			return nil, invalidf("%s: no such compose file", f)
		}
		files = append(files, abs)
	}
	projectDir := ""
	if opts.ProjectDirectory != "" {
		projectDir = absFrom(cwd, opts.ProjectDirectory)
	}
	envFiles := make([]string, 0, len(opts.EnvFiles))
	for _, f := range opts.EnvFiles {
		envFiles = append(envFiles, absFrom(cwd, f))
	}
	po, err := cli.NewProjectOptions(files,
		cli.WithEnv(opts.Environ),
		cli.WithEnv([]string{"PWD=" + cwd}),
		// Until the compose files are known, relative lookups start where compose's do:
		// --project-directory, else the first -f file's folder, else the working directory.
		setWorkingDir(projectDir, cwd),
		withEnvFiles(envFiles),
		cli.WithDotEnv,
		withConfigFileEnv(cwd),
		cli.WithDefaultConfigPath,
		setWorkingDir(projectDir, ""),
		requireConfigFile(cwd),
		// A project directory other than the working directory may hold its own .env.
		withEnvFiles(envFiles),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(opts.Profiles...),
		cli.WithName(opts.ProjectName),
	)
	if err != nil {
		var inv *InvalidError
		if errors.As(err, &inv) {
			return nil, err
		}
		return nil, invalidf("%s", err)
	}
	project, err := po.LoadProject(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("loading the compose project: %w", ctx.Err())
		}
		return nil, invalidf("%s", strings.TrimSpace(err.Error()))
	}
	return project, nil
}

// setWorkingDir sets the options' working directory to dir, else to fallback while no
// compose file is known (so that compose-go never asks the process for its own).
func setWorkingDir(dir, fallback string) cli.ProjectOptionsFn {
	return func(o *cli.ProjectOptions) error {
		o.WorkingDir = dir
		if dir == "" && len(o.ConfigPaths) == 0 {
			o.WorkingDir = fallback
		}
		return nil
	}
}

// requireConfigFile fails when neither -f, COMPOSE_FILE nor discovery found a file.
func requireConfigFile(cwd string) cli.ProjectOptionsFn {
	return func(o *cli.ProjectOptions) error {
		if len(o.ConfigPaths) == 0 {
			return invalidf("no compose file found in %s or its parents (want compose.yaml, or -f FILE)", cwd)
		}
		return nil
	}
}

// withEnvFiles is cli.WithEnvFiles reading COMPOSE_DISABLE_ENV_FILE from the given
// environment instead of the process's.
func withEnvFiles(files []string) cli.ProjectOptionsFn {
	return func(o *cli.ProjectOptions) error {
		if len(files) > 0 {
			o.EnvFiles = files
			return nil
		}
		if v, ok := o.Environment["COMPOSE_DISABLE_ENV_FILE"]; ok {
			disabled, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("COMPOSE_DISABLE_ENV_FILE: %w", err)
			}
			if disabled {
				return nil
			}
		}
		wd, err := o.GetWorkingDir()
		if err != nil {
			return err
		}
		dotEnv := filepath.Join(wd, ".env")
		if fi, err := os.Stat(dotEnv); err == nil && !fi.IsDir() {
			o.EnvFiles = []string{dotEnv}
		}
		return nil
	}
}

// withConfigFileEnv is cli.WithConfigFileEnv resolving relative paths against cwd.
func withConfigFileEnv(cwd string) cli.ProjectOptionsFn {
	return func(o *cli.ProjectOptions) error {
		if len(o.ConfigPaths) > 0 {
			return nil
		}
		value, ok := o.Environment["COMPOSE_FILE"]
		if !ok || value == "" {
			return nil
		}
		sep := o.Environment["COMPOSE_PATH_SEPARATOR"]
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		for _, entry := range strings.Split(value, sep) {
			abs := absFrom(cwd, entry)
			if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
				return invalidf("%s: no such compose file (from COMPOSE_FILE)", entry)
			}
			o.ConfigPaths = append(o.ConfigPaths, abs)
		}
		return nil
	}
}

// absFrom makes path absolute against dir, expanding nothing else.
func absFrom(dir, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(dir, path)
}
