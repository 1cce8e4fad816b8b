package composeext

import "slices"

// harmlessSettings are the backend settings that hold no secret. They alone reach a
// helper as environment variables; every other setting is treated as a secret: masked
// wherever it could be shown, and handed to helpers as a file. A new backend variable
// is thus safe by default.
var harmlessSettings = []string{
	"AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_PROFILE",
	"RESTIC_COMPRESSION", "RESTIC_PACK_SIZE", "RESTIC_READ_CONCURRENCY",
	"AZURE_ACCOUNT_NAME", "AZURE_ENDPOINT_SUFFIX",
	"GOOGLE_PROJECT_ID",
	"OS_AUTH_URL", "OS_REGION_NAME", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME",
	"B2_ACCOUNT_ID",
}

// IsSecretSetting reports whether a backend setting's value is a secret: everything
// not on the short list of harmless settings.
func IsSecretSetting(name string) bool { return !slices.Contains(harmlessSettings, name) }
