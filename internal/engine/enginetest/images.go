package enginetest

import (
	"context"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// Build is an image build the engine was asked for.
type Build struct {
	Tags      []string
	BuildArgs map[string]string
	// Context is the build context as sent (a tar stream).
	Context []byte
}

// AddImage makes ref an image the engine has, with the ID id.
func (e *Engine) AddImage(ref, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.images == nil {
		e.images = map[string]string{}
	}
	e.images[ref] = id
}

// HasImage reports whether the engine has the image ref.
func (e *Engine) HasImage(ref string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.images[ref]
	return ok
}

// Builds are the image builds asked for, in order.
func (e *Engine) Builds() []Build {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Build(nil), e.builds...)
}

// ImageInspect knows the images of AddImage and those built.
func (e *Engine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.fail["image-inspect "+ref]; err != nil {
		return client.ImageInspectResult{}, err
	}
	id, ok := e.images[ref]
	if !ok {
		//lint:ignore ST1005 the fake answers with the daemon's own words
		return client.ImageInspectResult{}, fmt.Errorf("No such image: %s: %w", ref, cerrdefs.ErrNotFound)
	}
	return client.ImageInspectResult{InspectResponse: image.InspectResponse{ID: id}}, nil
}

// ImageBuild records the build and tags a new image; a failure set with Fail("image-build TAG", err) is reported in the builder's output stream, as the engine does.
func (e *Engine) ImageBuild(_ context.Context, ctx io.Reader, o client.ImageBuildOptions) (client.ImageBuildResult, error) {
	data, err := io.ReadAll(ctx)
	if err != nil {
		return client.ImageBuildResult{}, err
	}
	b := Build{Tags: o.Tags, BuildArgs: map[string]string{}, Context: data}
	for k, v := range o.BuildArgs {
		if v != nil {
			b.BuildArgs[k] = *v
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.builds = append(e.builds, b)
	if err := e.call("image-build %s", strings.Join(o.Tags, ",")); err != nil {
		return client.ImageBuildResult{Body: io.NopCloser(strings.NewReader(fmt.Sprintf(`{"errorDetail":{"message":%q},"error":%q}`+"\n", err.Error(), err.Error())))}, nil
	}
	if e.images == nil {
		e.images = map[string]string{}
	}
	if e.imageLabels == nil {
		e.imageLabels = map[string]map[string]string{}
	}
	for _, t := range o.Tags {
		e.images[t] = "sha256:" + e.newID("image "+t)
		e.imageLabels[t] = o.Labels
	}
	return client.ImageBuildResult{Body: io.NopCloser(strings.NewReader(`{"stream":"sha256:built\n"}` + "\n"))}, nil
}

// ImageList lists the images built with all the filter's labels (images of AddImage
// carry none).
func (e *Engine) ImageList(_ context.Context, o client.ImageListOptions) (client.ImageListResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out client.ImageListResult
	for ref, id := range e.images {
		labels := e.imageLabels[ref]
		match := true
		for l := range o.Filters["label"] {
			k, v, _ := strings.Cut(l, "=")
			if labels[k] != v {
				match = false
			}
		}
		if match && labels != nil {
			out.Items = append(out.Items, image.Summary{ID: id, RepoTags: []string{ref}, Labels: labels})
		}
	}
	return out, nil
}

// ImageRemove removes an image reference.
func (e *Engine) ImageRemove(_ context.Context, ref string, _ client.ImageRemoveOptions) (client.ImageRemoveResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.call("image-remove %s", ref); err != nil {
		return client.ImageRemoveResult{}, err
	}
	if _, ok := e.images[ref]; !ok {
		//lint:ignore ST1005 the fake answers with the daemon's own words
		return client.ImageRemoveResult{}, fmt.Errorf("No such image: %s: %w", ref, cerrdefs.ErrNotFound)
	}
	delete(e.images, ref)
	return client.ImageRemoveResult{}, nil
}
