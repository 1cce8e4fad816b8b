package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
)

// A password command that fails is a configuration problem, like an unreadable
// password file: exit code 2.
func TestFailingPasswordCommandIsAConfigurationError(t *testing.T) {
	plan := &composeext.Plan{Repository: composeext.Repository{URL: "s3:x", PasswordCommand: []string{"sh", "-c", "echo no >&2; exit 3"}}}
	_, err := repository(context.Background(), plan, &bytes.Buffer{})
	if !errors.Is(err, composeext.ErrInvalid) || !strings.Contains(err.Error(), "password command") {
		t.Errorf("err %v; want an invalid setting naming the password command", err)
	}
}
