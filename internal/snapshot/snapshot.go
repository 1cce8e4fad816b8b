// Package snapshot is the contract between docker-backup and the snapshots it writes:
// which host, tags and paths a snapshot carries, how they are read back, which
// snapshots a command may consider, and how retention groups them. Every other
// package writes and parses snapshots through it, so a change to the contract is one
// change here.
package snapshot

import (
	"slices"
	"strings"

	"github.com/docker-backup/docker-backup/restic"
)

// Tag keys and values of our snapshots.
const (
	tagProject  = "project"
	tagService  = "service"
	tagStrategy = "strategy"
	tagVolume   = "volume"
	tagRun      = "run"
	tagNode     = "node"
	// Unconfirmed marks a dump snapshot that versions before issue 20 wrote and
	// confirmed only afterwards, with an exclusive `restic tag`: one that still carries
	// it was left by a run that died before. Dumps are no longer written so (restic
	// commits one only whole, see agent.DumpRelayCommand), but every reader still
	// skips snapshots that carry it, and the next up or forget forgets them.
	Unconfirmed = "unconfirmed"
)

// GroupBy is how retention groups snapshots (restic forget --group-by): one series per
// host and set of paths, so each volume set and dump file keeps its own history.
const GroupBy = "host,paths"

// Identity says whose snapshots these are: a compose project on one machine. Two
// machines that run a project of the same name into one repository keep apart.
type Identity struct {
	Project string
	// Machine is x-backup.host (or DOCKER_BACKUP_HOST), else derived from the engine.
	Machine string
}

// Host is restic's --host for the project's snapshots: PROJECT@MACHINE. restic finds a
// backup's parent by host and paths, so it must stay the same from run to run.
func (id Identity) Host() string { return id.Project + "@" + id.Machine }

// LegacyHost is the host of snapshots written before the machine was part of the
// identity: the project name alone. They are still listed and restorable.
func (id Identity) LegacyHost() string { return id.Project }

// Hosts are the hosts whose snapshots belong to the identity.
func (id Identity) Hosts() []string { return []string{id.Host(), id.LegacyHost()} }

// ServiceTags are the tags every snapshot of a service carries.
func ServiceTags(project, service, strategy string, volumeKeys []string) []string {
	tags := []string{tagProject + "=" + project, tagService + "=" + service, tagStrategy + "=" + strategy}
	for _, k := range volumeKeys {
		tags = append(tags, tagVolume+"="+k)
	}
	return tags
}

// RunTag names the run that wrote a snapshot.
func RunTag(runID string) string { return tagRun + "=" + runID }

// NodeTag names the swarm node whose volume a stack's snapshot holds: the stack's
// series is one (its host names the swarm), whichever node ran the task.
func NodeTag(hostname string) string { return tagNode + "=" + hostname }

// VolumePath is where a service's mount is found in a snapshot (and in the helper
// that writes it): /backup/<service>/<name>.
func VolumePath(service, name string) string { return "/backup/" + service + "/" + name }

// ProjectFilter selects the identity's snapshots, of every service.
func ProjectFilter(id Identity) restic.SnapshotFilter {
	return restic.SnapshotFilter{Hosts: id.Hosts(), Tags: []string{tagProject + "=" + id.Project}}
}

// ServiceFilter selects one service's snapshots of the identity.
func ServiceFilter(id Identity, service string) restic.SnapshotFilter {
	return restic.SnapshotFilter{Hosts: id.Hosts(), Tags: []string{tagProject + "=" + id.Project, tagService + "=" + service}}
}

// SeriesFilter selects the snapshots of the identity's series, of every service, or
// with allHosts those of every machine's series of the project (a copy carries one
// machine's series, or all of them).
func SeriesFilter(id Identity, allHosts bool) restic.SnapshotFilter {
	if allHosts {
		return restic.SnapshotFilter{Tags: []string{tagProject + "=" + id.Project}}
	}
	return ProjectFilter(id)
}

// ServiceSeriesFilter selects one service's snapshots as SeriesFilter does the project's.
func ServiceSeriesFilter(id Identity, service string, allHosts bool) restic.SnapshotFilter {
	if allHosts {
		return restic.SnapshotFilter{Tags: []string{tagProject + "=" + id.Project, tagService + "=" + service}}
	}
	return ServiceFilter(id, service)
}

// UnconfirmedFilter selects the identity's unconfirmed snapshots (never legacy ones:
// older versions did not write the tag).
func UnconfirmedFilter(id Identity) restic.SnapshotFilter {
	return restic.SnapshotFilter{Hosts: []string{id.Host()}, Tags: []string{tagProject + "=" + id.Project, Unconfirmed}}
}

// Info is what our tags say of a snapshot.
type Info struct {
	Project, Service, Strategy, Run string
	// Node is the swarm node whose volume a stack's snapshot holds (NodeTag); "" for a
	// compose project's.
	Node      string
	Confirmed bool
}

// Parse reads our tags of a snapshot.
func Parse(s restic.Snapshot) Info {
	return Info{
		Project:   s.Tag(tagProject),
		Service:   s.Tag(tagService),
		Strategy:  s.Tag(tagStrategy),
		Run:       s.Tag(tagRun),
		Node:      s.Tag(tagNode),
		Confirmed: !slices.Contains(s.Tags, Unconfirmed),
	}
}

// Confirmed keeps the snapshots a reader may use: those not marked unconfirmed.
func Confirmed(snaps []restic.Snapshot) []restic.Snapshot {
	return slices.DeleteFunc(slices.Clone(snaps), func(s restic.Snapshot) bool { return !Parse(s).Confirmed })
}

// LatestOf is the newest confirmed snapshot of service among snaps (restic lists them
// oldest first), and false when it has none.
func LatestOf(snaps []restic.Snapshot, service string) (restic.Snapshot, bool) {
	var latest restic.Snapshot
	found := false
	for _, s := range snaps {
		in := Parse(s)
		if in.Service != service || !in.Confirmed || found && !s.Time.After(latest.Time) {
			continue
		}
		latest, found = s, true
	}
	return latest, found
}

// HeldFiles reports whether a snapshot holds files, as its summary says; a snapshot
// without a summary (written before restic 0.17) is taken to hold some.
func HeldFiles(s restic.Snapshot) bool {
	return s.Summary == nil || s.Summary.TotalFilesProcessed > 0
}

// Owner describes whose a snapshot is, for a message: "project shop, service db".
func Owner(s restic.Snapshot) string {
	in := Parse(s)
	project := in.Project
	if project == "" {
		project = s.Hostname
	}
	service := in.Service
	if service == "" {
		service = "?"
	}
	out := "project " + project + ", service " + service
	if h, ok := strings.CutPrefix(s.Hostname, project+"@"); ok {
		out += " on " + h
	}
	return out
}
