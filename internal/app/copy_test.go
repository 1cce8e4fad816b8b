package app

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
)

// copy fills the copies named, in the plan's order; an unknown name, or a plan without
// copies, is a usage error naming what there is.
func TestChooseCopies(t *testing.T) {
	plan := &composeext.Plan{ComposeFiles: []string{"/p/compose.yaml"}, Copies: []composeext.CopyPlan{{Name: "nas"}, {Name: "offsite"}, {Name: "usb"}}}
	for _, tc := range []struct {
		names []string
		want  string
		err   string
	}{
		{nil, "nas,offsite,usb", ""},
		{[]string{"usb", "nas"}, "nas,usb", ""},
		{[]string{"cloud"}, "", `no copy repository named "cloud" in x-backup.copies (there are: nas, offsite, usb)`},
	} {
		got, err := chooseCopies(plan, tc.names)
		var names []string
		for _, c := range got {
			names = append(names, c.Name)
		}
		if strings.Join(names, ",") != tc.want || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%v: %v, %v; want %s, %q", tc.names, names, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrUsage) {
			t.Errorf("%v: not a usage error", tc.names)
		}
	}
	_, err := chooseCopies(&composeext.Plan{ComposeFiles: []string{"/p/compose.yaml"}}, nil)
	if err == nil || !errors.Is(err, ErrUsage) || !strings.HasPrefix(err.Error(), "compose.yaml: x-backup.copies: no copy repository is declared") {
		t.Errorf("no copies: %v", err)
	}
}

// A copy's unreadable password is its own failure, not the configuration's (exit 2).
func TestUnwrapInvalid(t *testing.T) {
	err := unwrapInvalid(fmt.Errorf("%w: reading the repository password: %w", composeext.ErrInvalid, os.ErrNotExist))
	if errors.Is(err, composeext.ErrInvalid) || err.Error() != "reading the repository password: file does not exist" {
		t.Errorf("%v: still reads as invalid configuration, or lost its words", err)
	}
}
