package composeext

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// loadCopies writes a compose file and its side files into a folder and loads it.
func loadCopies(t *testing.T, compose string, files map[string]string, environ ...string) (*Plan, string) {
	t.Helper()
	dir := t.TempDir()
	files["compose.yaml"] = compose
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := Load(context.Background(), LoadOptions{WorkingDir: dir, Environ: append([]string{"HOME=/home/user"}, environ...)})
	if err != nil {
		t.Fatal(err)
	}
	return plan, dir
}

const copiesYAML = `
name: shop
services:
  app:
    image: busybox
    x-backup: false
x-backup:
  password_file: primary.pw
  environment:
    AWS_SECRET_ACCESS_KEY: primary-secret-value
  copies:
    offsite:
      repository: s3:http://minio:9000/shop
      password_file: ~/offsite.pw
      env_file: offsite.env
      environment:
        AWS_ACCESS_KEY_ID: ${OFFSITE_KEY_ID}
        AWS_DEFAULT_REGION: eu-west-1
    usb:
      repository: ../usb/shop
      password_command: [pass, show, usb]
      environment:
        RESTIC_PASSWORD: ignored-as-password-command-wins
    nas:
      repository: rest:https://backup:${NAS_PASSWORD}@nas:8000/shop
      environment: [RESTIC_PASSWORD=nas-restic-password]
`

// Each copy repository is resolved from its own keys, as x-backup's own is: paths
// against the project folder, the backend settings with env_file under environment,
// restic's password variables taken as the password and not passed on; its secrets
// join the plan's.
func TestCopiesResolve(t *testing.T) {
	plan, dir := loadCopies(t, copiesYAML, map[string]string{
		"offsite.env": "AWS_SECRET_ACCESS_KEY=offsite-secret-value\nAWS_DEFAULT_REGION=us-east-1\n",
	}, "OFFSITE_KEY_ID=offsite-key-id", "NAS_PASSWORD=nas-url-password")
	if got := strings.Join(plan.CopyNames(), ","); got != "nas,offsite,usb" {
		t.Fatalf("copies %s, want nas,offsite,usb (sorted)", got)
	}
	off, ok := plan.Copy("offsite")
	if !ok {
		t.Fatal("no copy offsite")
	}
	if off.Repository.PasswordFile != "/home/user/offsite.pw" || off.Repository.Local || off.Repository.URL != "s3:http://minio:9000/shop" {
		t.Errorf("offsite: %+v", off.Repository)
	}
	wantEnv := map[string]string{"AWS_SECRET_ACCESS_KEY": "offsite-secret-value", "AWS_ACCESS_KEY_ID": "offsite-key-id", "AWS_DEFAULT_REGION": "eu-west-1"}
	for k, v := range wantEnv {
		if off.Repository.Env[k] != v {
			t.Errorf("offsite env %s=%q, want %q", k, off.Repository.Env[k], v)
		}
	}
	if len(off.Repository.Env) != len(wantEnv) {
		t.Errorf("offsite env %v: the primary's settings leaked in", off.Repository.EnvNames)
	}
	usb, _ := plan.Copy("usb")
	if !usb.Repository.Local || usb.Repository.URL != filepath.Join(filepath.Dir(dir), "usb", "shop") || usb.Repository.On != OnThisMachine ||
		strings.Join(usb.Repository.PasswordCommand, " ") != "pass show usb" || usb.Repository.Env != nil || usb.Repository.Default {
		t.Errorf("usb: %+v", usb.Repository)
	}
	nas, _ := plan.Copy("nas")
	if nas.Repository.Password != "nas-restic-password" || nas.Repository.Env != nil || nas.Repository.Display != "rest:https://backup:***@nas:8000/shop" {
		t.Errorf("nas: %+v", nas.Repository)
	}
	if _, ok := plan.Copy("elsewhere"); ok {
		t.Error("Copy found a copy that is not declared")
	}
	for _, secret := range []string{"offsite-secret-value", "offsite-key-id", "nas-restic-password", "nas-url-password", "primary-secret-value"} {
		if !slices.Contains(plan.Secrets, secret) {
			t.Errorf("secrets lack %q", secret)
		}
		if got := plan.Mask("restic said " + secret); strings.Contains(got, secret) {
			t.Errorf("Mask shows %q: %s", secret, got)
		}
	}
	if slices.Contains(plan.Secrets, "eu-west-1") {
		t.Error("a harmless setting is taken for a secret")
	}
	if !slices.Contains(plan.ReadFiles, filepath.Join(dir, "offsite.env")) {
		t.Errorf("read files %v lack the copy's env_file", plan.ReadFiles)
	}
}

// A copy's password command is masked for display as the primary's is.
func TestCopiesMasked(t *testing.T) {
	plan, _ := loadCopies(t, `
name: shop
services: {app: {image: busybox, x-backup: false}}
x-backup:
  password_file: primary.pw
  copies:
    usb:
      repository: /srv/usb
      password_command: "echo ${USB_PASSWORD}"
`, map[string]string{}, "USB_PASSWORD=usb-pass-value")
	masked := plan.Masked()
	if got := strings.Join(masked.Copies[0].Repository.PasswordCommand, " "); got != "sh -c echo ***" {
		t.Errorf("masked password command %q", got)
	}
	if got := strings.Join(plan.Copies[0].Repository.PasswordCommand, " "); got != "sh -c echo usb-pass-value" {
		t.Errorf("Masked changed the plan: %q", got)
	}
}

// A variable feeding a copy's secret backend setting is a secret for schedule --print.
func TestReadVariablesCopies(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(f, []byte(`
x-backup:
  copies:
    offsite:
      repository: s3:http://minio:9000/${BUCKET}
      environment:
        AWS_SECRET_ACCESS_KEY: ${OFFSITE_S}
        AWS_DEFAULT_REGION: ${REGION}
        list: [ "x" ]
    nas:
      repository: nas
      environment: ["B2_ACCOUNT_KEY=${NAS_K}"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := ReadVariables([]string{f})
	for name, why := range map[string]string{
		"OFFSITE_S": "x-backup.copies.offsite.environment.AWS_SECRET_ACCESS_KEY",
		"NAS_K":     "x-backup.copies.nas.environment.B2_ACCOUNT_KEY",
	} {
		if vars.Secret[name] != why {
			t.Errorf("%s: secret because %q, want %q", name, vars.Secret[name], why)
		}
	}
	for _, plain := range []string{"REGION", "BUCKET"} {
		if why, ok := vars.Secret[plain]; ok {
			t.Errorf("%s taken for a secret (%s)", plain, why)
		}
	}
}
