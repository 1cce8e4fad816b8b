#!/usr/bin/env bash
# Builds docker-backup from this source tree and installs it as a Docker CLI plugin, so
# that `docker backup` works. Run it again to update; it replaces the binary in place.
#
#   ./install.sh           installs to ${DOCKER_CONFIG:-~/.docker}/cli-plugins (this user)
#   ./install.sh --system  installs to /usr/local/lib/docker/cli-plugins (every user; root)
set -euo pipefail

dest=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
case "${1:-}" in
"") ;;
--system) dest=/usr/local/lib/docker/cli-plugins ;;
-h | --help)
	sed -n '2,7s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	echo "install.sh: unknown option $1 (use --system or nothing)" >&2
	exit 2
	;;
esac

command -v go >/dev/null || { echo "install.sh: Go is needed to build docker-backup and was not found: see https://go.dev/doc/install" >&2; exit 1; }
command -v docker >/dev/null || { echo "install.sh: the docker CLI was not found: docker-backup is a plugin of it; install Docker first" >&2; exit 1; }

cd "$(dirname "$0")"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
mkdir -p "$dest"
# Build next to the target and rename: a running `docker backup` is never overwritten
# half-way, and a failed build leaves the installed one alone.
tmp=$(mktemp "$dest/.docker-backup.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# Static (CGO_ENABLED=0): the plugin adds this very binary to its helper image, which may
# have no C library at all.
CGO_ENABLED=0 go build -ldflags "-X main.version=$version" -o "$tmp" ./cmd/docker-backup
chmod 0755 "$tmp"
mv -f "$tmp" "$dest/docker-backup"
trap - EXIT

echo "installed docker-backup $version to $dest/docker-backup"
echo "try: docker backup version"
