// Package e2e holds the end-to-end tests of docker-backup: the real plugin binary driven
// through the real docker CLI against a real engine. They are behind the e2e build tag;
// run them with `make e2e` (or `go test -tags e2e ./e2e/...`; add -run to pick some).
//
// TestMain fails when the engine is unreachable, builds the images with
// e2e/images/build.sh (cached), builds the plugin with version "e2e-test-<checkout>" and points a
// temporary DOCKER_CONFIG at it, so `docker backup` is the binary under test and the
// user's own docker config is never touched. The helpers, in the _test.go files:
//
//   - newProject(t, scenario) brings up e2e/testdata/<scenario>/ under a unique name
//     (dbe2e…) and waits for its database servers; p.backup(t, args…) runs
//     `docker backup` in its folder; p.exec, p.execInput and p.tryExec run commands in
//     a service's container; p.compose runs the compose tool. Cleanup removes it all.
//   - runDocker and mustDocker run `docker …`; eventually polls with a deadline (no
//     fixed sleeps in e2e code).
//   - resticJSON and resticJSONEnv run plain restic on a repository; passwordFile
//     writes a password.
//   - p.start starts a command without waiting for it (signal it, wait for it);
//     hostRestic runs the host's restic on a repository (a process the plugin does not
//     know); p.stopRecords and p.checkRunEnded look for what a run left behind.
//   - newPreparedProject is newProject with a step before `up` (a .env with a host
//     path); p.startWatched starts a command and tells the moment its output holds a
//     string (to kill it right there); watchRootMounts reports containers of a project
//     that bind-mount the host's / ; hostTree is volumeTree's manifest read on the host.
//   - startMinio serves an S3 bucket on 127.0.0.1 (reach it from a container with host
//     networking).
//   - sharedRemoteEngine gives the test its own view of the second engine the remote
//     tests share: a dockerd in a network namespace of its own, started once by the
//     first test that asks (with the restic, restic-bare and database images loaded),
//     stopped and checked to leave nothing by TestMain. The view is a docker context
//     (e.Context, tcp://127.0.0.1) through a proxy of the test's own that counts the
//     bytes each way (e.Proxy.BytesIn, BytesOut, Reset): the plugin sees a remote
//     engine. e.Docker runs docker on its socket (e.Socket, uncounted), e.Cmd and
//     e.Backup run through the context. startRemoteEngine starts an engine for one test
//     alone (one that kills it). Needs root, ip and nsenter.
//   - startSwarm(t, images…) starts a Docker swarm for the test alone: s.Manager,
//     s.Worker1 and s.Worker2, each a dockerd in network, hostname and mount namespaces
//     of its own (n.Name, n.Hostname for `node.hostname==`, n.NodeID for `node.id==`,
//     n.Addr, n.Socket, n.Docker, n.MustDocker), linked by a bridge in a namespace of
//     its own on a private 10.251.X.0/24 with no route out. A task that binds
//     /var/run/docker.sock reaches its node's engine. The images are saved once a run
//     and loaded into each node: deploy stacks with `--resolve-image never` and create
//     services with `--no-resolve-image`. This kernel has no IPVS: no service VIPs and
//     no ingress mesh; reach a service by tasks.<service>, endpoint_mode dnsrr or a
//     node's Addr. s.Env, s.Cmd and s.Backup reach the manager's socket directly;
//     s.Remote gives the test a context to it through a counting proxy, as
//     sharedRemoteEngine does. Cleanup removes the stacks and services, leaves the
//     swarm, stops the engines, removes namespaces, links and folders, and fails the
//     test if anything is left. Up in about 25–40 s with the database image (loading it
//     into the three nodes is most of that), 4 s with the restic image alone. Needs
//     root, ip, nsenter and unshare.
//   - p.start starts a command; killAt kills it (kill -9) the moment a channel fires
//     (helperEvents, containerDies: engine events, dockerEvents) and awaitMoment only
//     waits for that moment; p.startWatched and killAtHit do the same for a string of
//     its output.
//   - recordContainerEvents records engine events live from the moment it starts; ask
//     it, never `docker events --since … --until …`: the engine keeps only its last 256
//     events, which the tests running beside one push out within seconds.
//
// Every test calls t.Parallel(): it owns its project names, volumes, repositories and
// contexts, and finds what it made by its project's labels, never by a listing of the
// whole engine. `make e2e` runs E2E_PARALLEL of them at once (4: the tests mostly wait
// on the engine, but restic's key derivation and the database servers need the cores
// of a 2-core machine). Fixtures that take long are made once per run: the helper
// image (provisionHelperImage), the `make image` image (makeImage), the second engine,
// the images saved for swarms (savedImages).
// Schedules are in seconds (@every 10s), so no test waits on the minute clock.
//
// Compose files use ${DOCKER_BACKUP_E2E_DB_IMAGE} for the database image: commands
// `postgres`, `mariadbd` and `redis-server` with the official images' variables.
package e2e
