package plugin

import (
	"encoding/json"
	"io"

	"github.com/docker/cli/cli-plugins/metadata"
)

// metadataCommand is the subcommand the docker CLI runs to discover a plugin.
const metadataCommand = "docker-cli-plugin-metadata"

// writeMetadata answers the docker CLI's plugin discovery.
func writeMetadata(w io.Writer, version string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "     ")
	return enc.Encode(metadata.Metadata{
		SchemaVersion:    "0.1.0",
		Vendor:           "docker-backup",
		Version:          version,
		ShortDescription: "Back up and restore compose projects with restic",
		URL:              "https://github.com/docker-backup/docker-backup",
	})
}
