#!/bin/sh
# ci-deploy.sh: a CI deploy job for a compose project, with a backup before it.
#
#   examples/ci-deploy.sh [PROJECT FLAGS...]
#
# Run it from the project's folder (or give -f / --project-directory). In order:
#
#   1. docker backup plan --strict   refuses a deploy that adds a service with volumes and
#                                    no x-backup (exit 1), or a bad x-backup (exit 2);
#   2. docker backup up --json       backs up the project as it runs now; its JSON events
#                                    go to the job log (stdout) and to $BACKUP_EVENTS;
#                                    a failed service fails the job;
#   3. $COMPOSE up -d                deploys;
#   4. $MIGRATE                      if set, runs after the deploy; when it fails, the
#                                    job names the snapshots to restore.
#
# Nothing is deployed unless steps 1 and 2 succeeded. stdout carries up's JSON events
# and nothing else (`ci-deploy.sh > events.jsonl` works); the rest goes to stderr.
#
# PROJECT FLAGS are compose's project options (-f FILE, -p NAME, --project-directory DIR,
# --env-file FILE, --profile NAME), given as is to both `docker backup` and $COMPOSE,
# before their command. COMPOSE_FILE, COMPOSE_PROJECT_NAME… in the environment work too.
#
# Environment:
#   COMPOSE        the compose command (default: "docker compose", else "docker-compose")
#   MIGRATE        a command run with `sh -c` after the deploy, with $COMPOSE set and the
#                  PROJECT FLAGS as "$@", e.g. MIGRATE='$COMPOSE "$@" exec -T app ./migrate'
#   BACKUP_EVENTS  a file that keeps up's JSON events (default: the job log only)
#   UP_FLAGS       more flags for `docker backup up`, split on blanks (e.g. "--wait")
#
# Exit codes (a non-zero one fails the job):
#   0    backed up, deployed and migrated
#   1    plan --strict found a service with data and no backup decision, or the backup
#        failed (a service, the engine, the repository, a lock): nothing was deployed
#   2    a bad compose file, x-backup or flag (docker backup's usage error): nothing was
#        deployed or backed up
#   130  interrupted (Ctrl-C, SIGTERM: a cancelled job)
#   any other: the code of the compose command or the migration that failed (the
#        migration's failure prints the `docker backup restore` command to run)
set -eu

log() { printf 'ci-deploy: %s\n' "$*" >&2; }

# quote prints its argument quoted for sh, so a printed command can be pasted.
quote() {
	case $1 in
	'' | *[!A-Za-z0-9_./:@=+,-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}

if [ -z "${COMPOSE:-}" ]; then
	if docker compose version >/dev/null 2>&1; then
		COMPOSE="docker compose"
	else
		COMPOSE="docker-compose"
	fi
fi
export COMPOSE

flags=""
for a in "$@"; do
	flags="$flags $(quote "$a")"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 130' TERM
events=${BACKUP_EVENTS:-$tmp/events.jsonl}

# 1. Every service with data has a backup decision, and x-backup is valid.
log "docker backup$flags plan --strict"
rc=0
docker backup "$@" plan --strict >&2 || rc=$?
if [ "$rc" -ne 0 ]; then
	log "plan --strict refused the deploy (exit $rc): nothing was deployed"
	exit "$rc"
fi

# 2. Back up what runs now. The events are copied to the job log as they come (a FIFO,
# since POSIX sh has no pipefail and up's exit code must not be lost in a pipe).
log "docker backup$flags up --json${UP_FLAGS:+ $UP_FLAGS}"
mkfifo "$tmp/fifo"
tee "$events" <"$tmp/fifo" &
tee_pid=$!
rc=0
# shellcheck disable=SC2086 # UP_FLAGS is a list of flags on purpose
docker backup "$@" up --json ${UP_FLAGS:-} >"$tmp/fifo" || rc=$?
wait "$tee_pid" || { log "could not keep the events in $events"; exit 1; }
if [ "$rc" -ne 0 ]; then
	log "the backup failed (exit $rc): nothing was deployed"
	exit "$rc"
fi

# The snapshots this job made, as SERVICE@ID (a short ID, as `snapshots` shows it), from
# the services' done events; skipped services have none.
snapshots=$(sed -n 's/.*"event":"done".*"service":"\([^"]*\)".*"snapshot_id":"\([0-9a-f]\{8\}\)[0-9a-f]*".*/\1@\2/p' "$events" | tr '\n' ' ' | sed 's/ *$//')
log "snapshots taken: ${snapshots:-none}"

# 3. Deploy.
log "$COMPOSE$flags up -d"
rc=0
# shellcheck disable=SC2086 # COMPOSE is a command and its arguments
$COMPOSE "$@" up -d >&2 || rc=$?
if [ "$rc" -ne 0 ]; then
	log "the deploy failed (exit $rc); the snapshots taken before it: ${snapshots:-none}"
	exit "$rc"
fi

# 4. Migrate. Its failure leaves the data half changed: say how to go back.
if [ -n "${MIGRATE:-}" ]; then
	log "migrating: $MIGRATE"
	rc=0
	sh -c "$MIGRATE" ci-deploy "$@" >&2 || rc=$?
	if [ "$rc" -ne 0 ]; then
		log "the migration failed (exit $rc) after the deploy"
		if [ -n "$snapshots" ]; then
			log "to bring the data back as it was before this deploy, run:"
			log "  docker backup$flags restore $snapshots"
		else
			log "this job took no snapshot to restore"
		fi
		exit "$rc"
	fi
fi
log "deployed"
