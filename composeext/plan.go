package composeext

import (
	"fmt"

	"github.com/docker-backup/docker-backup/internal/metrics"
	"github.com/docker-backup/docker-backup/internal/notify"
	"github.com/docker-backup/docker-backup/internal/retention"
	"github.com/docker-backup/docker-backup/internal/schedule"
)

// Strategy says how a service's data is saved.
type Strategy string

// The strategies a service can declare.
const (
	StrategyNone    Strategy = "none"
	StrategyVolumes Strategy = "volumes"
	StrategyDump    Strategy = "dump"
)

// Plan is a compose project's backup declaration, resolved: what `up` does and where to.
// It is the one thing the rest of the program reads; nothing downstream looks at the
// compose file again.
type Plan struct {
	Project      string   `json:"project"`
	WorkingDir   string   `json:"working_dir"`
	ComposeFiles []string `json:"compose_files"`
	// ReadFiles are the other files loading the project read, absolute: the env_file of
	// x-backup and of the services (a scheduler elsewhere needs them too).
	ReadFiles  []string   `json:"-"`
	Repository Repository `json:"repository"`
	Image      string     `json:"image"`
	// AgentImage is a prebuilt helper image of ours (x-backup.agent_image); empty: the
	// image is derived from Image on the engine (package agentimage).
	AgentImage string `json:"agent_image,omitempty"`
	// DockerSocket is the engine's API socket on the engine's host, mounted into the
	// helpers that drive the engine (dumps, dump restores).
	DockerSocket string `json:"docker_socket"`
	// DockerSocketSetting names where DockerSocket is set, as messages name it:
	// "--docker-socket", "DOCKER_BACKUP_DOCKER_SOCKET" or "FILE: x-backup.docker_socket"
	// (also when nothing set it); DockerSocketDefault is true when nothing did, and the
	// plugin may then take the local endpoint's own socket instead.
	DockerSocketSetting string `json:"-"`
	DockerSocketDefault bool   `json:"-"`
	// Host names the machine in the snapshots' identity (x-backup.host or
	// DOCKER_BACKUP_HOST); empty: derived from the engine.
	Host     string `json:"host,omitempty"`
	Parallel int    `json:"parallel"`
	Schedule string `json:"schedule,omitempty"`
	// Check and Prune are the scheduler's maintenance jobs (x-backup.check, .prune).
	Check *schedule.Maintenance `json:"check,omitempty"`
	Prune *schedule.Maintenance `json:"prune,omitempty"`
	// Verify is the scheduler's restore drill (x-backup.verify): `docker backup verify`
	// on its own schedule.
	Verify    *schedule.Maintenance `json:"verify,omitempty"`
	Retention *retention.Policy     `json:"retention,omitempty"`
	// Copies are the second repositories of x-backup.copies, sorted by name.
	Copies []CopyPlan `json:"copies,omitempty"`
	// Metrics is where the scheduler serves Prometheus metrics (x-backup.metrics).
	Metrics  *metrics.Config `json:"metrics,omitempty"`
	Services []ServicePlan   `json:"services"`
	// Unprotected lists the services that mount data but declare no x-backup.
	Unprotected []Unprotected `json:"unprotected,omitempty"`
	// Notify are the alerts sent when a run ends (x-backup.notify).
	Notify []notify.Target `json:"notify,omitempty"`
	// Healthcheck are the dead-man's-switch pings around a run (x-backup.healthcheck).
	Healthcheck *notify.Healthcheck `json:"healthcheck,omitempty"`
	// Secrets are values that must never be shown (passwords interpolated into commands,
	// backend credentials); Masked hides them. Never marshalled.
	Secrets []string `json:"-"`
}

// Repository is where snapshots go and how to open it. Secret values are never
// marshalled: only Display and the names of the variables are.
type Repository struct {
	// URL is the restic repository string; a local repository is an absolute host path.
	URL string `json:"-"`
	// Display is URL with credentials masked, safe to print.
	Display string `json:"url"`
	// Local is true when URL is a folder on the engine's host.
	Local bool `json:"local"`
	// On says on which machine a local repository's folder is: OnThisMachine, or
	// OnEngineHost when the engine runs on another machine. Empty for a remote backend.
	On string `json:"on,omitempty"`
	// Engine is that remote engine's endpoint (masked) when On is OnEngineHost.
	Engine string `json:"engine,omitempty"`
	// Default is true for the default local repository (backups/ beside the compose
	// file): the only one created on first use; any other is created by init alone, so
	// that an unmounted backup disk is never filled in its mount point's place.
	Default bool `json:"default,omitempty"`
	// PasswordFile is a host file holding the password, if that is the source.
	PasswordFile string `json:"password_file,omitempty"`
	// PasswordCommand is run on the host and prints the password, if that is the source.
	PasswordCommand []string `json:"password_command,omitempty"`
	// Password is the password taken from RESTIC_PASSWORD in the environment, if that is the source.
	Password string `json:"-"`
	// GeneratePassword is true when no password is configured for the default local
	// repository: a key file is created at PasswordFile on first use, unless it exists.
	// PasswordFile is then the repository folder's path plus ".key" (<dir>/backups.key,
	// beside <dir>/backups), mode 0600; the command tells the user to keep a copy.
	GeneratePassword bool `json:"generate_password,omitempty"`
	// Env holds backend settings and credentials (AWS_*, B2_*, …), already interpolated.
	Env map[string]string `json:"-"`
	// EnvNames lists Env's keys, sorted, for display.
	EnvNames []string `json:"env,omitempty"`
}

// Where a local repository's folder is (Repository.On).
const (
	OnThisMachine = "this machine"
	OnEngineHost  = "engine host"
)

// OnEngine reports whether the repository is a folder of a remote engine's host: this
// machine neither creates nor reads it, helpers do.
func (r Repository) OnEngine() bool { return r.Local && r.On == OnEngineHost }

// Where is Display with the machine a local folder is on, for messages:
// "/srv/backups on the engine's host (tcp://prod:2376)".
func (r Repository) Where() string {
	if r.OnEngine() {
		return fmt.Sprintf("%s on the engine's host (%s)", r.Display, r.Engine)
	}
	return r.Display
}

// Describe is Display and, for a folder, the machine it is on, for plan:
// "/srv/backups (on the engine's host, tcp://prod:2376)", "./backups (on this machine)".
func (r Repository) Describe() string {
	switch {
	case r.OnEngine():
		return fmt.Sprintf("%s (on the engine's host, %s)", r.Display, r.Engine)
	case r.Local:
		return r.Display + " (on this machine)"
	}
	return r.Display
}

// HostDescribe says under which restic host the snapshots are written, for plan.
func (p *Plan) HostDescribe() string {
	if p.Host != "" {
		return p.Project + "@" + p.Host
	}
	return p.Project + "@<this engine's host name and ID hash> (set x-backup.host to name it)"
}

// ServicePlan is one service's resolved declaration.
type ServicePlan struct {
	Name     string   `json:"name"`
	Strategy Strategy `json:"strategy"`
	// Preset names the preset the declaration came from, if any.
	Preset string `json:"preset,omitempty"`
	// Volumes are the mounts copied by the volumes strategy.
	Volumes []Mount `json:"volumes,omitempty"`
	// Exclude are the exclude patterns as written, in the service's paths; ExcludePaths
	// the same as restic matches them, in the snapshot's paths.
	Exclude      []string `json:"exclude,omitempty"`
	ExcludePaths []string `json:"exclude_paths,omitempty"`
	// Stop asks for every container of the service to be stopped during the copy.
	Stop bool      `json:"stop,omitempty"`
	Dump *DumpSpec `json:"dump,omitempty"`
	// Pre run before the backup; Post after it whenever a pre hook or the backup ran;
	// OnSuccess or OnFailure last, by the outcome.
	Pre       [][]string `json:"pre,omitempty"`
	Post      [][]string `json:"post,omitempty"`
	OnSuccess [][]string `json:"on_success,omitempty"`
	OnFailure [][]string `json:"on_failure,omitempty"`
	// Timeout bounds the service's backup (hooks included); zero: none.
	Timeout Duration `json:"timeout,omitempty"`
	// Retention is the service's own policy, or the project's.
	Retention *retention.Policy `json:"retention,omitempty"`
	// Verify is the restore drill's check of the service (x-backup.verify): run in a
	// throwaway copy of the service once its latest backup is loaded there; its exit
	// status decides. Nil: the preset's default check (Dump.Drill.Check), or none.
	Verify []string `json:"verify,omitempty"`
	// Tags are the restic tags of the service's snapshots (project=…, service=…, strategy=…, volume=…).
	Tags []string `json:"tags"`
}

// Mount is one volume or bind mount of a service, as the helper sees it.
type Mount struct {
	// Key is the compose volume key for a named volume, else the target path.
	Key string `json:"key"`
	// Type is "volume" or "bind".
	Type string `json:"type"`
	// Source is the engine's volume name, or the host path of a bind mount.
	Source string `json:"source"`
	// Target is where the service mounts it.
	Target string `json:"target"`
	// Path is where the helper mounts it and so the path in the snapshot:
	// /backup/<service>/<key, with slashes of a bind target turned into dashes>.
	Path string `json:"path"`
	// Keep lists paths inside the mount, relative to it, that the backup leaves out by
	// name (the repository, a compose file, an exclude without wildcards): a restore
	// leaves them as they are.
	Keep []string `json:"keep,omitempty"`
}

// DumpSpec is the dump strategy's commands. Commands are argv lists run with exec in the
// service's container; a string in the compose file becomes ["sh", "-c", string].
type DumpSpec struct {
	Command  []string `json:"command"`
	Restore  []string `json:"restore,omitempty"`
	Filename string   `json:"filename"`
	User     string   `json:"user,omitempty"`
	// RestoreNote explains how to restore when Restore is empty or needs more (a preset
	// whose tool cannot load a dump into a running server).
	RestoreNote string `json:"restore_note,omitempty"`
	// Check is how a complete dump begins and ends, when its format says so; set by
	// presets only (a command of the user's may write anything).
	Check *DumpCheck `json:"check,omitempty"`
	// Drill is what the restore drill (docker backup verify) knows of the preset's
	// image; set by presets only (with a dump or restore of the user's own too, as the
	// server and its logins are still the image's), nil without a preset.
	Drill *DrillSpec `json:"drill,omitempty"`
}

// DrillSpec is how the restore drill loads a preset's dump into a throwaway copy of the
// service and checks it. Commands are argv lists run with exec in that copy; they read
// its environment, as the dump and the restore do in the live container.
type DrillSpec struct {
	// Ready exits 0 once the server takes connections (the drill uses it when the
	// service has no compose healthcheck, and runs it until then); nil: nothing to wait
	// for (sqlite).
	Ready []string `json:"ready,omitempty"`
	// Check is the preset's default check, used when the service has no x-backup.verify.
	// The drill appends the database names found in the dump (dump.NameScanner) as its
	// arguments; with none, it checks what the server holds. It prints one line of what
	// it found ("databases appdb (3 tables), shop (2 tables)"), or exits non-zero with
	// one line on stderr.
	Check []string `json:"check"`
	// PasswordEnv are the image's variables that hold passwords. In the throwaway copy
	// the drill gives each one the service sets, itself or as its _FILE variant, a
	// throwaway value (and drops the _FILE variant): the live password is never used
	// there nor shown.
	PasswordEnv []string `json:"password_env,omitempty"`
	// Load, for a preset without a restore command (redis), reads the dump on its
	// standard input and puts it where the server reads its data at start; the drill
	// then restarts the throwaway copy and waits for it to be ready again.
	Load []string `json:"load,omitempty"`
}

// DumpCheck is the format's own proof that a dump is whole: the run compares the stream
// with it and refuses to confirm a dump cut off before its end, even when the dump
// command exited 0.
type DumpCheck struct {
	// Tool names the program that writes the dump, for messages.
	Tool string `json:"tool"`
	// Head, if set, is what the dump begins with.
	Head string `json:"head,omitempty"`
	// End, if set, begins the dump's last line; blank lines, lines of "--" comments and
	// psql's \unrestrict after it are allowed (pg_dumpall closes its marker with "--").
	End string `json:"end,omitempty"`
	// RDB asks for a Redis RDB file's own end: the EOF opcode 0xFF and the CRC-64 of
	// everything before the checksum.
	RDB bool `json:"rdb,omitempty"`
}

// Unprotected is a service with data and no backup decision.
type Unprotected struct {
	Service string   `json:"service"`
	Mounts  []string `json:"mounts"`
}
