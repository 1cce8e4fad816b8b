package engine

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsMissingBindSource(t *testing.T) {
	refused := func(path string) error {
		return notStarted{fmt.Errorf("creating helper container from image restic: Error response from daemon: invalid mount config for type \"bind\": bind source path does not exist: %s", path)}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"the repository", refused("/srv/backups"), true},
		{"another mount", refused("/srv/uploads"), false},
		{"a longer path", refused("/srv/backups2"), false},
		{"a helper that ran", errors.New("bind source path does not exist: /srv/backups"), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsMissingBindSource(tc.err, "/srv/backups"); got != tc.want {
				t.Errorf("IsMissingBindSource(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
