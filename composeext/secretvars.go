package composeext

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"go.yaml.in/yaml/v4"
)

// Variables are the variables compose files interpolate, as written (before
// interpolation), and those of them whose value is a secret.
type Variables struct {
	// Names are every variable the files interpolate, sorted.
	Names []string
	// Secret maps each secret one to why: the first place it feeds that holds a secret
	// ("services.db.environment.POSTGRES_PASSWORD", "x-backup.notify[0]"), or "its name".
	Secret map[string]string
}

// ReadVariables finds the variables compose files interpolate and tells the secret ones:
// a variable is a secret when its name looks like one (IsSecretName), or when it feeds a
// service's environment, x-backup.notify, x-backup.healthcheck, a secret backend
// setting of x-backup.environment or of a copy's (IsSecretSetting), or the password of a URL or of a
// password=… pair. schedule --print writes none of their values into a file. Files that
// cannot be read or parsed are skipped: loading the plan has already said so.
func ReadVariables(files []string) Variables {
	vars := Variables{Secret: map[string]string{}}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil {
			continue
		}
		walkScalars(&doc, nil, func(path []string, value string) {
			for _, ref := range variableRefs(value) {
				if !seen[ref.name] {
					seen[ref.name] = true
					vars.Names = append(vars.Names, ref.name)
				}
				if _, known := vars.Secret[ref.name]; known {
					continue
				}
				if why := secretPlace(path, value, ref); why != "" {
					vars.Secret[ref.name] = why
				}
			}
		})
	}
	for _, name := range vars.Names {
		if _, known := vars.Secret[name]; !known && IsSecretName(name) {
			vars.Secret[name] = "its name"
		}
	}
	slices.Sort(vars.Names)
	return vars
}

// walkScalars calls visit with every scalar of a YAML tree and its key path; a
// sequence's items are "[i]", a merge key (<<) adds nothing, and an alias is walked
// where it is used, so that what it brings into a sensitive place counts there.
func walkScalars(n *yaml.Node, path []string, visit func(path []string, value string)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkScalars(c, path, visit)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if key == "<<" {
				walkScalars(n.Content[i+1], path, visit)
				continue
			}
			walkScalars(n.Content[i+1], append(slices.Clone(path), key), visit)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkScalars(c, append(slices.Clone(path), fmt.Sprintf("[%d]", i)), visit)
		}
	case yaml.AliasNode:
		if n.Alias != nil {
			walkScalars(n.Alias, path, visit)
		}
	case yaml.ScalarNode:
		visit(path, n.Value)
	}
}

// variableRef is one interpolated variable in a value, at [start, end).
type variableRef struct {
	name       string
	start, end int
}

// variableRefs finds $NAME and ${NAME…} in a value as compose interpolates it: $$ is a
// literal dollar, and a default (${A:-$B}) is searched too.
func variableRefs(s string) []variableRef {
	var out []variableRef
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		if s[i+1] == '$' {
			i++
			continue
		}
		j := i + 1
		if s[j] == '{' {
			j++
		}
		k := j
		for k < len(s) && (s[k] == '_' || isAlpha(s[k]) || (k > j && s[k] >= '0' && s[k] <= '9')) {
			k++
		}
		if k > j {
			out = append(out, variableRef{name: s[j:k], start: i, end: k})
		}
	}
	return out
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// secretPlace says which secret a variable at ref in value, at path, feeds; "" when
// none.
func secretPlace(path []string, value string, ref variableRef) string {
	where := strings.ReplaceAll(strings.Join(path, "."), ".[", "[")
	if key := secretKey(path, value); key != "" {
		return key
	}
	if len(path) >= 2 && path[0] == "x-backup" && (path[1] == "notify" || path[1] == "healthcheck") {
		return where
	}
	for _, re := range []*regexp.Regexp{urlPasswordRE, kvPasswordRE} {
		for _, m := range re.FindAllStringSubmatchIndex(value, -1) {
			if ref.start < m[5] && ref.end > m[4] {
				return where + " (a password)"
			}
		}
	}
	return ""
}

// secretKey names the environment variable at path that holds a secret: any of a
// service's, a secret backend setting of x-backup.environment or of a copy's
// (x-backup.copies.NAME.environment); "" otherwise.
func secretKey(path []string, value string) string {
	switch {
	case len(path) >= 4 && path[0] == "services" && path[2] == "environment":
		return "services." + path[1] + ".environment." + envKey(path[3], value)
	case len(path) >= 3 && path[0] == "x-backup" && path[1] == "environment" && IsSecretSetting(envKey(path[2], value)):
		return "x-backup.environment." + envKey(path[2], value)
	case len(path) >= 5 && path[0] == "x-backup" && path[1] == "copies" && path[3] == "environment" && IsSecretSetting(envKey(path[4], value)):
		return "x-backup.copies." + path[2] + ".environment." + envKey(path[4], value)
	}
	return ""
}

// envKey is the variable an environment's element at key sets: the key of a mapping,
// or the KEY of a list item "KEY=${VAR}".
func envKey(key, value string) string {
	if strings.HasPrefix(key, "[") {
		k, _, _ := strings.Cut(value, "=")
		return k
	}
	return key
}

// EnvFileNames are the names the env files (.env, --env-file) define, read without
// interpolation; a file that cannot be read defines none.
func EnvFileNames(files []string) map[string]bool {
	names := map[string]bool{}
	for _, f := range files {
		vars, err := dotenv.ReadWithLookup(func(string) (string, bool) { return "", false }, f)
		if err != nil {
			continue
		}
		for k := range vars {
			names[k] = true
		}
	}
	return names
}
