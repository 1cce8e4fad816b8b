package composeext

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Select returns a copy of the plan narrowed to the named services, in the order given;
// no names means the whole plan. A name that is not a declared service of the project is
// an error wrapping ErrInvalid. Unprotected services are kept only when named.
func (p *Plan) Select(names []string) (*Plan, error) {
	if len(names) == 0 {
		return p, nil
	}
	byName := map[string]ServicePlan{}
	for _, s := range p.Services {
		byName[s.Name] = s
	}
	unprotected := map[string]Unprotected{}
	for _, u := range p.Unprotected {
		unprotected[u.Service] = u
	}
	out := *p
	out.Services = []ServicePlan{}
	out.Unprotected = nil
	var lines []string
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		if s, ok := byName[name]; ok {
			out.Services = append(out.Services, s)
			continue
		}
		if u, ok := unprotected[name]; ok {
			out.Unprotected = append(out.Unprotected, u)
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: services.%s: no such service with an x-backup declaration (want one of: %s)",
			p.fileName(), name, strings.Join(p.serviceNames(), ", ")))
	}
	if len(lines) > 0 {
		return nil, &InvalidError{Lines: lines}
	}
	return &out, nil
}

// fileName is the base name of the first compose file, for messages.
func (p *Plan) fileName() string {
	if len(p.ComposeFiles) == 0 {
		return "compose.yaml"
	}
	return filepath.Base(p.ComposeFiles[0])
}

// serviceNames lists the declared services.
func (p *Plan) serviceNames() []string {
	names := make([]string, 0, len(p.Services))
	for _, s := range p.Services {
		names = append(names, s.Name)
	}
	return names
}
