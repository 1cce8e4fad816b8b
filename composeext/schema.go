package composeext

import _ "embed"

// Schema is the JSON Schema of x-backup: the document describes the top-level mapping,
// and its $defs/service a service's x-backup. Editors and CI can check compose files
// with it; the tests check every documented example against it.
//
//go:embed schema/x-backup.schema.json
var Schema []byte
