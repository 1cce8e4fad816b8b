package composeext

import (
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// A preset is a dump and a restore for the conventions of an official database image.
// The commands are shell scripts run with sh -c inside the service's container: they read
// the service's own environment there ("$POSTGRES_USER"), so secret values never appear
// in the plan, in argv or in our output. Dumps are plain text or the tool's own
// uncompressed archive so restic can deduplicate them.
//
// Presets fail closed: each step (reading a password file, logging in, listing what
// there is to dump, finding the database file) ends the script with a non-zero exit and
// one line on stderr when it fails, and an empty database set is an error unless the
// service says allow_empty. What the tool writes is then checked against its format's
// end marker (check), so a dump cut off mid-stream is never confirmed.
type preset struct {
	// ext is the snapshot file's extension after the service name.
	ext string
	// dump and restore build the scripts from the declaration's settings.
	dump, restore func(o presetOptions) string
	// check is how the dump's format proves it is whole, if it can.
	check *DumpCheck
	// restoreNote explains a missing or partial restore.
	restoreNote string
	// needsPath is true when the preset needs x-backup.path.
	needsPath string
	// needsEnv lists variables of which the service's environment must set one.
	needsEnv []string
	// checksEmpty is true when the dump refuses an empty database set unless allow_empty.
	checksEmpty bool
	// ready and verify are the restore drill's readiness probe (nil: none) and default
	// check (preset_drill.go).
	ready, verify func(o presetOptions) string
	// passwordEnv are the image's variables that hold passwords, which the drill
	// replaces by throwaway values.
	passwordEnv []string
	// load puts the dump where the server reads it at start, for a preset without a
	// restore command (DrillSpec.Load).
	load string
}

// presetOptions are the declaration's settings that shape a preset's scripts.
type presetOptions struct {
	// path is x-backup.path (sqlite).
	path string
	// allowEmpty is x-backup.allow_empty: an empty database set is dumped, not refused.
	allowEmpty bool
}

// presetOrder is the order presets are listed in messages and docs.
var presetOrder = []string{"postgres", "mysql", "mariadb", "mongodb", "redis", "sqlite"}

// The end markers of the dump tools' formats.
var (
	postgresCheck = &DumpCheck{Tool: "pg_dumpall", End: "-- PostgreSQL database cluster dump complete"}
	mysqlCheck    = &DumpCheck{Tool: "mariadb-dump/mysqldump", End: "-- Dump completed"}
	redisCheck    = &DumpCheck{Tool: "redis-cli --rdb", Head: "REDIS", RDB: true}
	sqliteCheck   = &DumpCheck{Tool: "sqlite3 .dump", End: "COMMIT;"}
)

// presets are the known presets by name.
var presets = map[string]preset{
	"postgres": {
		ext:         "sql",
		dump:        postgresDump,
		restore:     func(presetOptions) string { return postgresLogin + postgresRestore },
		check:       postgresCheck,
		checksEmpty: true,
		ready:       func(presetOptions) string { return postgresReady },
		verify:      postgresVerify,
		passwordEnv: []string{"POSTGRES_PASSWORD"},
	},
	"mysql": {
		ext:         "sql",
		dump:        func(o presetOptions) string { return mysqlLogin("mysql", "MYSQL", "MARIADB") + mysqlDump(o) },
		restore:     func(presetOptions) string { return mysqlLogin("mysql", "MYSQL", "MARIADB") + mysqlRestore },
		check:       mysqlCheck,
		needsEnv:    mysqlEnv,
		checksEmpty: true,
		ready:       func(presetOptions) string { return mysqlReady("mysql", "MYSQL", "MARIADB") },
		verify:      func(o presetOptions) string { return mysqlVerify("mysql", "MYSQL", "MARIADB", o) },
		passwordEnv: []string{"MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD", "MARIADB_ROOT_PASSWORD", "MARIADB_PASSWORD"},
	},
	"mariadb": {
		ext:         "sql",
		dump:        func(o presetOptions) string { return mysqlLogin("mariadb", "MARIADB", "MYSQL") + mysqlDump(o) },
		restore:     func(presetOptions) string { return mysqlLogin("mariadb", "MARIADB", "MYSQL") + mysqlRestore },
		check:       mysqlCheck,
		needsEnv:    mysqlEnv,
		checksEmpty: true,
		ready:       func(presetOptions) string { return mysqlReady("mariadb", "MARIADB", "MYSQL") },
		verify:      func(o presetOptions) string { return mysqlVerify("mariadb", "MARIADB", "MYSQL", o) },
		passwordEnv: []string{"MARIADB_ROOT_PASSWORD", "MARIADB_PASSWORD", "MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD"},
	},
	"mongodb": {
		ext:         "archive",
		dump:        func(presetOptions) string { return mongoAuth + "mongodump --quiet --archive \"$@\"" },
		restore:     func(presetOptions) string { return mongoAuth + "mongorestore --quiet --archive --drop \"$@\"" },
		ready:       func(presetOptions) string { return mongoReady },
		verify:      func(presetOptions) string { return mongoVerify },
		passwordEnv: []string{"MONGO_INITDB_ROOT_PASSWORD"},
	},
	"redis": {
		ext:         "rdb",
		dump:        redisDump,
		restore:     nil,
		check:       redisCheck,
		checksEmpty: true,
		restoreNote: "redis cannot load an RDB file into a running server: restore it by stopping the " +
			"service and putting the file back as its dump.rdb (or back the data volume up with strategy volumes)",
		ready:       func(presetOptions) string { return redisReady },
		verify:      redisVerify,
		passwordEnv: []string{"REDIS_PASSWORD"},
		load:        redisLoad,
	},
	"sqlite": {
		ext:         "sql",
		needsPath:   "the database file inside the container, e.g. /data/app.db",
		dump:        sqliteDump,
		restore:     sqliteRestore,
		check:       sqliteCheck,
		checksEmpty: true,
		verify:      sqliteVerify,
	},
}

// isPreset reports whether name is a known preset.
func isPreset(name string) bool {
	_, ok := presets[name]
	return ok
}

// presetNames lists the presets in their documented order.
func presetNames() []string { return presetOrder }

// applyPreset fills a dump spec from a preset where the declaration leaves it empty, and
// checks the preset's needs against the declaration and the service.
func applyPreset(d *decoder, base, service string, sd serviceDecl, svc types.ServiceConfig, spec *DumpSpec) {
	p := presets[sd.Preset]
	if !d.presetNeeds(base, service, p, sd, svc) {
		return
	}
	o := presetOptions{path: sd.Path, allowEmpty: sd.AllowEmpty}
	if spec.Command == nil {
		spec.Command = []string{"sh", "-c", p.dump(o)}
		// Only the preset's own dump is known to end with the tool's marker.
		if p.check != nil {
			c := *p.check
			spec.Check = &c
		}
	}
	if spec.Restore == nil && p.restore != nil {
		spec.Restore = []string{"sh", "-c", p.restore(o)}
	}
	if spec.Restore == nil {
		spec.RestoreNote = p.restoreNote
	}
	if spec.Filename == "" {
		spec.Filename = service + "." + p.ext
	}
	spec.Drill = p.drill(o)
	if spec.Restore != nil {
		spec.Drill.Load = nil // a restore of the user's own loads it
	}
}

// presetNeeds checks what preset p needs of the declaration and the service; false
// when the preset cannot be applied at all.
func (d *decoder) presetNeeds(base, service string, p preset, sd serviceDecl, svc types.ServiceConfig) bool {
	if p.needsPath != "" && sd.Path == "" {
		d.probs.addf(base+".path", "required by preset %s (%s)", sd.Preset, p.needsPath)
		return false
	}
	if p.needsPath == "" && sd.Path != "" {
		d.probs.addf(base+".path", "not used by preset %s", sd.Preset)
	}
	switch {
	case sd.AllowEmpty && !p.checksEmpty:
		d.probs.addf(base+".allow_empty", "not used by preset %s (it does not check for an empty database set)", sd.Preset)
	case sd.AllowEmpty && sd.Dump != nil:
		d.probs.addf(base+".allow_empty", "not used with your own dump command (only the preset's dump checks for an empty database set)")
	}
	if len(p.needsEnv) > 0 && sd.Dump == nil && !hasAnyEnv(svc, p.needsEnv) {
		d.probs.addf(base, "preset %s logs in as root: services.%s.environment needs %s or %s (or a _FILE or ALLOW_EMPTY variant)",
			sd.Preset, service, p.needsEnv[0], p.needsEnv[1])
	}
	return true
}

// drill is the restore drill's spec of the preset, kept with a dump or restore of the
// user's own too: the image's server, logins and passwords are the preset's still.
func (p preset) drill(o presetOptions) *DrillSpec {
	ds := &DrillSpec{
		Check:       []string{"sh", "-c", p.verify(o), drillArg0},
		PasswordEnv: slices.Clone(p.passwordEnv),
	}
	if p.load != "" {
		ds.Load = []string{"sh", "-c", p.load}
	}
	if p.ready != nil {
		ds.Ready = []string{"sh", "-c", p.ready(o)}
	}
	return ds
}

// hasAnyEnv reports whether the service's environment sets one of names.
func hasAnyEnv(svc types.ServiceConfig, names []string) bool {
	for _, n := range names {
		if _, ok := svc.Environment[n]; ok {
			return true
		}
	}
	return false
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
