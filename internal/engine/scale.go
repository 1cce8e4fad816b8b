package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Labels a run puts on a swarm service it scaled to 0, in the same versioned update
// that scales it: whoever finds the service at 0 (the run itself, or the next command
// after the run was killed) knows the count to give back and whose it was.
const (
	// LabelScaledFrom is the service's replica count before the run scaled it to 0.
	LabelScaledFrom = "io.docker-backup.scaled-from"
	// LabelScaledBy is the ID of the run that scaled it to 0.
	LabelScaledBy = "io.docker-backup.scaled-by"
)

// updateTries bounds the retries of a service update that lost a race with another
// writer of the service (the version it was based on is no longer the service's).
const updateTries = 5

// ScaledService is a swarm service a run scaled to 0, as its labels record it.
type ScaledService struct {
	ID, Name string
	// Namespace is its stack's (LabelStackNamespace): the project whose runs scale it.
	Namespace string
	// From is the replica count to give back; Run is the run that scaled it.
	From uint64
	Run  string
}

// ScaleToZero scales the replicated service serviceID to 0 and records its count and
// the run on it (LabelScaledFrom, LabelScaledBy) in the same versioned update, so the
// count is never lost between two writes. A global service cannot be scaled: error. A
// service some run already scaled is an error naming that run: its count is the one to
// keep. It returns the count it recorded.
func ScaleToZero(ctx context.Context, api API, serviceID, run string) (uint64, error) {
	var from uint64
	err := updateService(ctx, api, serviceID, func(spec *swarm.ServiceSpec) error {
		if spec.Mode.Replicated == nil || spec.Mode.Replicated.Replicas == nil {
			return fmt.Errorf("service %s is not a replicated service: it cannot be scaled to 0", spec.Name)
		}
		if by, ok := spec.Labels[LabelScaledBy]; ok {
			return fmt.Errorf("service %s was scaled to 0 by run %s, which has not scaled it back", spec.Name, by)
		}
		from = *spec.Mode.Replicated.Replicas
		zero := uint64(0)
		spec.Mode.Replicated.Replicas = &zero
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		spec.Labels[LabelScaledFrom] = strconv.FormatUint(from, 10)
		spec.Labels[LabelScaledBy] = run
		return nil
	})
	return from, err
}

// ScaleBack gives the service serviceID back the count ScaleToZero recorded on it for
// run, and removes the record, in one versioned update. A service without the record,
// or scaled by another run, is left as it is (its count was given back already, or is
// that run's to give): it returns false.
func ScaleBack(ctx context.Context, api API, serviceID, run string) (bool, error) {
	scaled := false
	err := updateService(ctx, api, serviceID, func(spec *swarm.ServiceSpec) error {
		raw, ok := spec.Labels[LabelScaledFrom]
		if !ok || spec.Labels[LabelScaledBy] != run {
			return errUnchanged
		}
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || spec.Mode.Replicated == nil {
			return fmt.Errorf("service %s: label %s=%q is not a replica count", spec.Name, LabelScaledFrom, raw)
		}
		spec.Mode.Replicated.Replicas = &n
		delete(spec.Labels, LabelScaledFrom)
		delete(spec.Labels, LabelScaledBy)
		scaled = true
		return nil
	})
	return scaled, err
}

// errUnchanged ends updateService without an update.
var errUnchanged = errors.New("unchanged")

// updateService applies change to the service's current spec and updates it with the
// version the spec was read at; an update that lost a race with another writer is
// tried again on a fresh read.
func updateService(ctx context.Context, api API, serviceID string, change func(*swarm.ServiceSpec) error) error {
	var err error
	for range updateTries {
		var res client.ServiceInspectResult
		res, err = api.ServiceInspect(ctx, serviceID, client.ServiceInspectOptions{})
		if err != nil {
			return fmt.Errorf("inspecting service %s: %w", serviceID, err)
		}
		spec := res.Service.Spec
		if cerr := change(&spec); cerr != nil {
			if errors.Is(cerr, errUnchanged) {
				return nil
			}
			return cerr
		}
		_, err = api.ServiceUpdate(ctx, serviceID, client.ServiceUpdateOptions{Version: res.Service.Version, Spec: spec})
		if err == nil || !outOfSequence(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("updating service %s: %w", serviceID, err)
	}
	return nil
}

// outOfSequence tells the engine's refusal of an update based on a version of the
// service that is no longer its current one.
func outOfSequence(err error) bool {
	return strings.Contains(err.Error(), "update out of sequence")
}

// WaitTasksEnded waits until no task of the service serviceID runs any more (every
// task's state is past running: its container has stopped), polling every poll (a
// second when zero).
func WaitTasksEnded(ctx context.Context, api API, serviceID string, poll time.Duration) error {
	if poll == 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		res, err := api.TaskList(ctx, client.TaskListOptions{Filters: client.Filters{}.Add("service", serviceID)})
		if err != nil {
			return fmt.Errorf("listing the tasks of service %s: %w", serviceID, err)
		}
		live := 0
		for _, task := range res.Items {
			if !taskEnded(task.Status.State) {
				live++
			}
		}
		if live == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the %d running tasks of service %s to end: %w", live, serviceID, ctx.Err())
		case <-t.C:
		}
	}
}

// WaitTasksRunning waits until n tasks of the service serviceID run (swarm wants them
// running and their containers have started), polling every poll (a second when zero):
// a service scaled back is up again.
func WaitTasksRunning(ctx context.Context, api API, serviceID string, n uint64, poll time.Duration) error {
	if poll == 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		res, err := api.TaskList(ctx, client.TaskListOptions{Filters: client.Filters{}.Add("service", serviceID)})
		if err != nil {
			return fmt.Errorf("listing the tasks of service %s: %w", serviceID, err)
		}
		running := uint64(0)
		for _, task := range res.Items {
			if task.DesiredState == swarm.TaskStateRunning && task.Status.State == swarm.TaskStateRunning {
				running++
			}
		}
		if running >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d tasks of service %s to run (%d do): %w", n, serviceID, running, ctx.Err())
		case <-t.C:
		}
	}
}

// taskEnded says whether a task in state s has no running container any more.
func taskEnded(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed,
		swarm.TaskStateRejected, swarm.TaskStateRemove, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

// ScaledServices lists the swarm's services that a run scaled to 0 (LabelScaledBy),
// any run's: the caller tells a dead run's from a live one's.
func ScaledServices(ctx context.Context, api API) ([]ScaledService, error) {
	res, err := api.ServiceList(ctx, client.ServiceListOptions{Filters: labelFilter([]string{LabelScaledBy})})
	if err != nil {
		return nil, fmt.Errorf("listing the swarm's services scaled to 0 by docker-backup: %w", err)
	}
	var out []ScaledService
	for _, s := range res.Items {
		from, _ := strconv.ParseUint(s.Spec.Labels[LabelScaledFrom], 10, 64)
		out = append(out, ScaledService{ID: s.ID, Name: s.Spec.Name, Namespace: s.Spec.Labels[LabelStackNamespace],
			From: from, Run: s.Spec.Labels[LabelScaledBy]})
	}
	return out, nil
}

// ForgetScaled removes the record ScaleToZero put on the service serviceID and leaves
// its count as it is (0): nobody is to scale it back, as its data is not fit to run
// on (a restore's swap that could not be finished). It returns the count recorded.
func ForgetScaled(ctx context.Context, api API, serviceID string) (uint64, error) {
	var from uint64
	err := updateService(ctx, api, serviceID, func(spec *swarm.ServiceSpec) error {
		raw, ok := spec.Labels[LabelScaledFrom]
		if !ok {
			return errUnchanged
		}
		from, _ = strconv.ParseUint(raw, 10, 64)
		delete(spec.Labels, LabelScaledFrom)
		delete(spec.Labels, LabelScaledBy)
		return nil
	})
	return from, err
}
