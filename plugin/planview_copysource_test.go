package plugin

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
)

// Two S3 accounts: plan says the agent serves the primary to the copy, and shows
// neither account's keys; one account: nothing more.
func TestPlanTextCopyOfAnotherAccount(t *testing.T) {
	const compose = `
x-backup:
  repository: s3:http://minio-a:9000/shop
  password_file: primary.pw
  environment:
    AWS_ACCESS_KEY_ID: primary-key-id
    AWS_SECRET_ACCESS_KEY: ${PRIMARY_SECRET}
  copies:
    offsite:
      repository: s3:http://minio-b:9000/shop
      password_file: offsite.pw
      environment:
        AWS_ACCESS_KEY_ID: offsite-key-id
        AWS_SECRET_ACCESS_KEY: ${OFFSITE_SECRET}
    same:
      repository: s3:http://minio-a:9000/shop-copy
      password_file: same.pw
      environment:
        AWS_ACCESS_KEY_ID: primary-key-id
        AWS_SECRET_ACCESS_KEY: ${PRIMARY_SECRET}
services:
  app:
    image: busybox
    x-backup: false
`
	dir := writeCompose(t, compose)
	var out bytes.Buffer
	err := runPlan(context.Background(), &planOptions{
		app: plainEngine(t),
		load: composeext.LoadOptions{WorkingDir: dir, Environ: []string{
			"OFFSITE_SECRET=s3cr3t-offsite-value", "PRIMARY_SECRET=s3cr3t-primary-value"}},
		out: &out, errOut: &bytes.Buffer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, secret := range []string{"s3cr3t-offsite-value", "s3cr3t-primary-value", "offsite-key-id", "primary-key-id"} {
		if strings.Contains(text, secret) {
			t.Errorf("plan shows %q:\n%s", secret, text)
		}
	}
	if n := strings.Count(text, "served by the agent (two s3: accounts"); n != 1 {
		t.Errorf("plan says %d times that the primary is served, want once (offsite only):\n%s", n, text)
	}
	i, j := strings.Index(text, "Copy offsite"), strings.Index(text, "served by the agent")
	if i < 0 || j < i {
		t.Errorf("the served line is not under Copy offsite:\n%s", text)
	}
}
