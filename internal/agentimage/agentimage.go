// Package agentimage provides the image every helper container runs: the configured
// restic image with the docker-backup binary added as the agent (Binary). A prebuilt
// image can be named instead; otherwise the image is built on the engine itself, from
// the restic image and this program's own Linux binary, once per pair: its tag
// changes with both.
package agentimage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/docker-backup/docker-backup/internal/engine"
)

// Binary is where the agent image holds the docker-backup binary.
const Binary = "/usr/local/bin/docker-backup"

// Repository is the repository of the images built on the engine; `make image` tags
// docker-backup:<version> instead.
const Repository = "docker-backup-agent"

// LabelVersion is the label on a built agent image: the docker-backup version inside.
const LabelVersion = "io.docker-backup.agent.version"

// LabelBinary marks the images built by Resolve.
const LabelBinary = "io.docker-backup.agent"

// ErrNoBinary is a program that cannot provide the engine with a binary of its own: it
// is not a static Linux binary of the engine's architecture.
var ErrNoBinary = errors.New("no docker-backup binary for the engine")

// Options say which agent image a command needs.
type Options struct {
	// ResticImage is the restic image the agent image is built on (x-backup.image).
	ResticImage string
	// AgentImage, if set, is a prebuilt image of ours, used as is
	// (x-backup.agent_image, --agent-image).
	AgentImage string
	// Version is this program's version, recorded on a built image.
	Version string
	// Executable is this program's binary (os.Executable when empty).
	Executable string
	// Progress, if set, is told once when an image is being built.
	Progress func(string)
}

// Resolve returns the agent image to run helpers from: AgentImage as it is, or the
// image derived from ResticImage, built on the engine if it has not got it yet.
func Resolve(ctx context.Context, api engine.ImageAPI, engineOS, engineArch string, o Options) (string, error) {
	if o.AgentImage != "" {
		return o.AgentImage, nil
	}
	exe := o.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("finding this program's binary: %w", err)
		}
	}
	if err := CheckBinary(exe, engineOS, engineArch); err != nil {
		return "", err
	}
	sum, err := fileSum(exe)
	if err != nil {
		return "", err
	}
	resticID, _, err := engine.ImageID(ctx, api, o.ResticImage)
	if err != nil {
		return "", err
	}
	tag := Tag(o.Version, sum, o.ResticImage, resticID)
	if _, found, err := engine.ImageID(ctx, api, tag); err != nil || found {
		return tag, err
	}
	if o.Progress != nil {
		o.Progress(fmt.Sprintf("building the helper image %s on the engine (%s with docker-backup %s; once per version)", tag, o.ResticImage, o.Version))
	}
	bctx, err := buildContext(exe)
	if err != nil {
		return "", err
	}
	err = engine.BuildImage(ctx, api, engine.BuildSpec{
		Context: bctx, Tag: tag,
		BuildArgs: map[string]string{"RESTIC_IMAGE": o.ResticImage},
		Labels:    map[string]string{LabelVersion: o.Version, LabelBinary: "docker-backup"},
	})
	if err != nil {
		return "", fmt.Errorf("providing the helper image (on %s): %w", o.ResticImage, err)
	}
	// The images this version built before with another binary (a rebuilt plugin) are
	// of no use any more; other versions' are left alone (another client may use them).
	engine.RemoveImagesLabelled(ctx, api, tag, LabelVersion+"="+o.Version, LabelBinary+"=docker-backup")
	return tag, nil
}

// unsafeTag matches what a tag may not hold.
var unsafeTag = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Tag is the tag of the agent image built from the binary with checksum binarySum on
// the restic image ref (whose ID on the engine is resticID, or empty when the engine
// lacks it and the build pulls it): a new binary or another restic image gets a new tag.
func Tag(version, binarySum, resticRef, resticID string) string {
	h := sha256.Sum256([]byte(binarySum + "\n" + resticRef + "\n" + resticID))
	v := unsafeTag.ReplaceAllString(version, "_")
	if len(v) > 100 {
		v = v[:100]
	}
	return Repository + ":" + v + "-" + hex.EncodeToString(h[:6])
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading this program's binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading this program's binary: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
