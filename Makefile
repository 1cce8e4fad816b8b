# docker-backup: build, install and test. `make test` is what CI runs (after `make lint`).

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Extra flags for the e2e run, e.g. E2EFLAGS=-v or E2EFLAGS='-run TestVersion'.
E2EFLAGS ?=
# How many e2e tests run at once (each is its own compose project). They mostly wait on
# the engine, so more than the cores; measured on 2 cores (see e2e/doc.go).
E2E_PARALLEL ?= 4

# The restic image `make image` builds the helper image on, and the image's name.
RESTIC_IMAGE ?= restic/restic:0.18.1
# staticcheck finds what go vet does not (dead code, deprecated calls, wrong API use).
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
IMAGE ?= docker-backup

.PHONY: build image install test unit e2e bench lint

# Static: the same binary is the agent inside the helper image.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/docker-backup ./cmd/docker-backup

# The helper image: RESTIC_IMAGE with this docker-backup added, tagged $(IMAGE):dev and
# $(IMAGE):$(VERSION). Name it with --agent-image or x-backup.agent_image.
image: build
	@ctx=$$(mktemp -d) && trap 'rm -rf "$$ctx"' EXIT && \
	cp bin/docker-backup internal/agentimage/Dockerfile "$$ctx/" && \
	DOCKER_BUILDKIT=0 docker build -q --build-arg RESTIC_IMAGE=$(RESTIC_IMAGE) \
		-t $(IMAGE):dev -t $(IMAGE):$(VERSION) "$$ctx"

install:
	./install.sh

test: unit e2e

unit:
	$(GO) test ./...

# The harness (e2e/main_test.go) builds the images with e2e/images/build.sh first:
# about 10 minutes the first time, seconds afterwards.
e2e:
	$(GO) test -tags e2e -count=1 -timeout 60m -parallel $(E2E_PARALLEL) $(E2EFLAGS) ./e2e/...

# The e2e benchmarks (e2e/bench_*.go) do their work once each (-benchtime 1x): 12
# minutes on a quiet 2-core machine (docs/performance.md), most of it
# BenchmarkRestoreSizes' 8 GiB.
bench:
	$(GO) test -run '^$$' -bench . ./...
	$(GO) test -tags e2e -count=1 -timeout 90m -run '^$$' -bench . -benchtime 1x ./e2e/...

lint:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags e2e ./e2e/...
