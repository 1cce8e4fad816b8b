package app

import (
	"fmt"
	"strings"

	"github.com/docker-backup/docker-backup/composeext"
)

// UnprotectedMessage names the services that hold data with no backup decision.
func UnprotectedMessage(list []composeext.Unprotected) string {
	parts := make([]string, len(list))
	for i, u := range list {
		parts[i] = fmt.Sprintf("%s (%s)", u.Service, strings.Join(u.Mounts, ", "))
	}
	return fmt.Sprintf("unprotected data: %s %s volumes or bind mounts but no x-backup; "+
		"declare how to back them up, or x-backup: false to skip them knowingly",
		strings.Join(parts, ", "), map[bool]string{true: "has", false: "have"}[len(list) == 1])
}
