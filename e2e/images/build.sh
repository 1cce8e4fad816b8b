#!/usr/bin/env bash
# Builds, once, everything the e2e tests need that a registry would normally give:
#   - the restic helper image   (restic built from source, FROM scratch)
#   - the database image        (Debian bookworm via debootstrap: PostgreSQL 15, MariaDB, Redis, SQLite)
#   - the MinIO server binary   (an S3 backend on 127.0.0.1)
# Each result is cached by tag or path, so a second run only checks that it is there.
# Prints the settings the tests read, as KEY=VALUE lines, on its last lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${DOCKER_BACKUP_E2E_CACHE:-$HOME/.cache/docker-backup-e2e}
bin=$cache/bin
mkdir -p "$bin"

restic_version=0.18.1
minio_version=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
restic_image=docker-backup-e2e/restic:$restic_version-3
# The image the plugin's helpers are built on: restic alone, no shell, no busybox.
restic_bare_image=docker-backup-e2e/restic-bare:$restic_version-1
db_packages=postgresql-15,mariadb-server,redis-server,sqlite3,ca-certificates
# Tags follow the inputs: a changed package list or db/ file builds a new image.
db_base_image=docker-backup-e2e/db-base:bookworm-$(echo "$db_packages" | sha256sum | cut -c1-8)
db_image=docker-backup-e2e/db:$(cat "$here/db/Dockerfile" "$here/db/docker-entrypoint.sh" <(echo "$db_base_image") | sha256sum | cut -c1-12)

log() { echo "e2e images: $*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# docker_build builds a context folder into a tag, showing the builder's output only
# when it fails (the legacy builder warns on every run).
docker_build() {
	local out tag=$1 ctx=$2
	shift 2
	out=$(DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$@" "$ctx" 2>&1) || {
		echo "$out" >&2
		return 1
	}
}

# Test runs of several developers may start at once: one builds, the others wait.
exec 9>"$cache/.lock"
flock 9

# Each artefact is checked and built on its own: an engine that has the images cached
# may meet a fresh cache folder (another user, a cleaned ~/.cache), and the other way round.
build_restic_bin() {
	[ -x "$bin/restic-$restic_version" ] && return
	log "building restic $restic_version from source (about 80 s)"
	GOBIN=$cache/gobin CGO_ENABLED=0 go install "github.com/restic/restic/cmd/restic@v$restic_version"
	mv "$cache/gobin/restic" "$bin/restic-$restic_version"
}

# build_restic_bare builds the restic image with nothing but restic, its CA bundle and a
# writable /tmp: docker-backup's helpers must need nothing else.
build_restic_bare() {
	build_restic_bin
	have_image "$restic_bare_image" && return
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' RETURN
	printf '%s\n' 'FROM scratch' 'COPY restic /usr/bin/restic' 'COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt' \
		'COPY tmp /tmp' 'ENTRYPOINT ["/usr/bin/restic"]' >"$ctx/Dockerfile"
	cp "$bin/restic-$restic_version" "$ctx/restic"
	cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
	mkdir "$ctx/tmp" && chmod 1777 "$ctx/tmp"
	log "building $restic_bare_image"
	docker_build "$restic_bare_image" "$ctx"
}

build_restic() {
	build_restic_bin
	have_image "$restic_image" && return
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' RETURN
	cp "$here/restic/Dockerfile" "$ctx/"
	cp "$bin/restic-$restic_version" "$ctx/restic"
	cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
	# restore's swap helpers run /bin/busybox sh, as in the Alpine-based restic/restic image.
	[ -x /bin/busybox ] || { log "installing busybox-static"; apt-get install -y -qq busybox-static >/dev/null; }
	cp /bin/busybox "$ctx/busybox"
	mkdir "$ctx/tmp" && chmod 1777 "$ctx/tmp"
	log "building $restic_image"
	docker_build "$restic_image" "$ctx"
}

# apt_mirror prints the Debian mirror this machine's apt uses, or Debian's own on a host
# of another distribution (an Ubuntu mirror has no bookworm).
apt_mirror() {
	local m=
	if grep -qsx 'ID=debian' /etc/os-release; then
		m=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
		[ -n "$m" ] || m=$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

build_db_base() {
	have_image "$db_base_image" && return
	[ "$(id -u)" = 0 ] || { log "building $db_base_image needs root (debootstrap): run this once as root"; exit 1; }
	command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y -qq debootstrap >/dev/null; }
	local root=$cache/rootfs.$$
	rm -rf "$root"
	mkdir -p "$root"
	chmod 0755 "$root"
	log "debootstrap of bookworm with PostgreSQL 15, MariaDB, Redis, SQLite (about 2 min)"
	# No daemon may start inside the chroot while packages are configured.
	debootstrap --variant=minbase --include="$db_packages" \
		bookworm "$root" "$(apt_mirror)" >"$cache/debootstrap.log" 2>&1 || {
		tail -n 30 "$cache/debootstrap.log" >&2
		exit 1
	}
	# Stop whatever a package's postinst may have started in the chroot.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill "${p#/proc/}" 2>/dev/null || true
	done
	rm -rf "$root/var/lib/postgresql/15" "$root/etc/postgresql/15" "$root/var/lib/mysql"/* "$root/var/cache/apt/archives"/*.deb
	log "importing $db_base_image"
	tar -C "$root" -c . | docker import - "$db_base_image" >/dev/null
	rm -rf "$root"
}

build_db() {
	have_image "$db_image" && return
	build_db_base
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' RETURN
	cp "$here/db/Dockerfile" "$here/db/docker-entrypoint.sh" "$ctx/"
	log "building $db_image"
	docker_build "$db_image" "$ctx" --build-arg "BASE=$db_base_image"
	# Drop the images of older db/ files; one still in use by a container stays.
	docker image ls --format '{{.Repository}}:{{.Tag}}' "${db_image%%:*}" | grep -vxF "$db_image" |
		xargs -r docker image rm >/dev/null 2>&1 || true
}

build_minio() {
	[ -x "$bin/minio-$minio_version" ] && return
	log "building MinIO $minio_version from source"
	GOBIN=$cache/gobin go install "github.com/minio/minio@$minio_version"
	mv "$cache/gobin/minio" "$bin/minio-$minio_version"
}

build_restic
build_restic_bare
build_db
build_minio
echo "DOCKER_BACKUP_E2E_RESTIC_IMAGE=$restic_image"
echo "DOCKER_BACKUP_E2E_RESTIC_BARE_IMAGE=$restic_bare_image"
echo "DOCKER_BACKUP_E2E_DB_IMAGE=$db_image"
echo "DOCKER_BACKUP_E2E_MINIO=$bin/minio-$minio_version"
echo "DOCKER_BACKUP_E2E_RESTIC=$bin/restic-$restic_version"
