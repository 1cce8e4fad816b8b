package plugin

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
)

// TestPlanTextNotify checks that plan shows notify targets and pings, masked.
func TestPlanTextNotify(t *testing.T) {
	dir := writeCompose(t, `
x-backup:
  notify:
    - ${HOOK}
    - {url: "ntfy://ntfy.sh/backups-7f3a9c1e", on: [success, warning]}
  healthcheck: https://hc-ping.com/0b9a4a4e-9d3c-4c62-8a0f-1f4f2b7c1e55
services:
  app:
    image: busybox
    x-backup: false
`)
	var out bytes.Buffer
	err := runPlan(context.Background(), &planOptions{
		app:  plainEngine(t),
		load: composeext.LoadOptions{WorkingDir: dir, Environ: []string{"HOOK=https://hooks.slack.com/services/T0001/B0002/Xy9Zs3cr3tT0k3n"}},
		out:  &out, errOut: &bytes.Buffer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Notify https://hooks.slack.com/*** (webhook) on failure",
		"Notify ntfy://*** (ntfy) on success, warning",
		"Healthcheck start https://hc-ping.com/***, success https://hc-ping.com/***, failure https://hc-ping.com/***",
	} {
		// Columns are padded to the longest label: compare words.
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, secret := range []string{"Xy9Zs3cr3tT0k3n", "backups-7f3a9c1e", "0b9a4a4e"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output shows %q:\n%s", secret, out.String())
		}
	}
}
