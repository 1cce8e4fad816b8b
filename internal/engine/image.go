package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// ImageAPI is what the agent image's provisioning asks of the engine.
type ImageAPI interface {
	ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, options client.ImageBuildOptions) (client.ImageBuildResult, error)
	ImageList(ctx context.Context, options client.ImageListOptions) (client.ImageListResult, error)
	ImageRemove(ctx context.Context, imageID string, options client.ImageRemoveOptions) (client.ImageRemoveResult, error)
}

// RemoveImagesLabelled removes the images that carry every label ("key=value") but the
// image keep (a reference), and returns the references removed. An image a container
// uses, stopped ones included, is left: the engine refuses to remove it.
func RemoveImagesLabelled(ctx context.Context, api ImageAPI, keep string, labels ...string) []string {
	f := labelFilter(labels)
	res, err := api.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		return nil
	}
	var removed []string
	for _, img := range res.Items {
		for _, ref := range img.RepoTags {
			if ref == keep {
				continue
			}
			if _, err := api.ImageRemove(ctx, ref, client.ImageRemoveOptions{}); err == nil {
				removed = append(removed, ref)
			}
		}
	}
	return removed
}

// ImageID returns the ID of the image ref on the engine; found is false when the engine
// does not have it.
func ImageID(ctx context.Context, api ImageAPI, ref string) (id string, found bool, err error) {
	res, err := api.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("inspecting image %s: %w", ref, err)
	}
	return res.ID, true, nil
}

// BuildSpec is an image build on the engine with the classic builder: a tar context
// holding a Dockerfile.
type BuildSpec struct {
	Context   io.Reader
	Tag       string
	BuildArgs map[string]string
	Labels    map[string]string
}

// BuildImage builds spec on the engine (whose builder pulls a FROM image it lacks) and
// returns once the image is tagged, or with the builder's own error.
func BuildImage(ctx context.Context, api ImageAPI, spec BuildSpec) error {
	args := map[string]*string{}
	for k, v := range spec.BuildArgs {
		args[k] = &v
	}
	res, err := api.ImageBuild(ctx, spec.Context, client.ImageBuildOptions{
		Tags: []string{spec.Tag}, Dockerfile: "Dockerfile", BuildArgs: args, Labels: spec.Labels,
		Remove: true, ForceRemove: true, SuppressOutput: true, Version: build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("building image %s: %w", spec.Tag, err)
	}
	defer res.Body.Close()
	if err := buildError(res.Body); err != nil {
		return fmt.Errorf("building image %s: %w", spec.Tag, err)
	}
	return nil
}

// buildError reads the builder's JSON message stream to its end and returns the error
// it reports, if any.
func buildError(body io.Reader) error {
	dec := json.NewDecoder(body)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		err := dec.Decode(&msg)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the builder's output: %w", err)
		}
		if m := msg.ErrorDetail.Message; m != "" {
			return errors.New(strings.TrimSpace(m))
		}
		if msg.Error != "" {
			return errors.New(strings.TrimSpace(msg.Error))
		}
	}
}
