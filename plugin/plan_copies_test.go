package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/docker-backup/docker-backup/composeext"
)

const copiesCompose = `
x-backup:
  password_file: primary.pw
  copies:
    offsite:
      repository: s3:http://minio:9000/shop
      password_file: offsite.pw
      environment:
        AWS_ACCESS_KEY_ID: offsite-key-id
        AWS_SECRET_ACCESS_KEY: ${OFFSITE_SECRET}
      retention: {keep_last: 3}
      schedule: "0 4 * * *"
    nas:
      repository: rest:https://backup:${NAS_PASSWORD}@nas:8000/shop
      password_command: pass show nas
services:
  app:
    image: busybox
    x-backup: false
`

// TestPlanTextCopies checks that plan shows each copy repository, its password source,
// settings, retention and schedule, and never a secret.
func TestPlanTextCopies(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		dir := writeCompose(t, copiesCompose)
		var out bytes.Buffer
		err := runPlan(context.Background(), &planOptions{
			app: plainEngine(t),
			load: composeext.LoadOptions{WorkingDir: dir, Environ: []string{
				"OFFSITE_SECRET=s3cr3t-offsite-value", "NAS_PASSWORD=nas-pass-value"}},
			json: asJSON,
			out:  &out, errOut: &bytes.Buffer{},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"s3cr3t-offsite-value", "nas-pass-value", "offsite-key-id"} {
			if strings.Contains(out.String(), secret) {
				t.Errorf("json %t: output shows %q:\n%s", asJSON, secret, out.String())
			}
		}
		if asJSON {
			var got struct {
				Copies []struct {
					Name       string `json:"name"`
					Repository struct {
						URL string   `json:"url"`
						Env []string `json:"env"`
					} `json:"repository"`
					Schedule string `json:"schedule"`
				} `json:"copies"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Copies) != 2 || got.Copies[0].Name != "nas" || got.Copies[1].Name != "offsite" ||
				got.Copies[0].Repository.URL != "rest:https://backup:***@nas:8000/shop" ||
				strings.Join(got.Copies[1].Repository.Env, ",") != "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY" ||
				got.Copies[1].Schedule != "0 4 * * *" {
				t.Errorf("copies: %+v", got.Copies)
			}
			continue
		}
		text := strings.Join(strings.Fields(out.String()), " ")
		for _, want := range []string{
			"Copy nas rest:https://backup:***@nas:8000/shop password command pass show nas retention as the primary's (each service's policy) schedule after each scheduled up",
			"Copy offsite s3:http://minio:9000/shop password file " + dir + "/offsite.pw environment AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY retention keep last 3 schedule 0 4 * * *",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	}
}
