# Makefile for github.com/netkit/websocket. Every target works on a fresh clone with Go 1.26.
GO        ?= go
FUZZTIME  ?= 10s
BENCHTIME ?= 500ms
BENCHCOUNT ?= 6
STATICCHECK_VERSION ?= v0.8.2
BENCHSTAT_VERSION   ?= v0.0.0-20260908200009-22c9c6c9d4da
GOBIN     := $(shell $(GO) env GOPATH)/bin

.PHONY: all run test lint fuzz fuzz-long bench bench-engine bench-peers tools interop load

all: lint test

## run: the main job: wscat against its embedded echo server (a demo conversation when stdin is empty)
run:
	$(GO) run ./cmd/wscat

## test: vet, then every test with the race detector (the README's test command)
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	cd bench && $(GO) vet ./... && $(GO) test -count=1 -run . -bench=^$$ ./...

## lint: gofmt, go vet and staticcheck must be clean
lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...
	cd bench && $(GOBIN)/staticcheck ./...

## fuzz: every native fuzzer for FUZZTIME (default 10s) each
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

## fuzz-long: every fuzzer for 5 minutes each
fuzz-long:
	FUZZTIME=5m ./scripts/fuzz.sh

## bench: engine benchmarks side by side with gobwas/ws (bench/ module), summarized by benchstat
bench: tools
	BENCHTIME=$(BENCHTIME) BENCHCOUNT=$(BENCHCOUNT) ./scripts/bench.sh

## bench-peers: our clients against gorilla, coder, gobwas, gws and a raw TCP floor, one server
## process on loopback, interleaved medians; Markdown to stdout and bench/results/peers.md
bench-peers:
	cd bench && $(GO) run ./peers -o results/peers.md

tools:
	@test -x $(GOBIN)/staticcheck || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@test -x $(GOBIN)/benchstat || $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)

## interop: our client against real peers on loopback (Node ws, Python websockets), and their
## clients against our server facade (package server), installed by
## interop/install.sh (apt python3-websockets, npm ws@8 into interop/node); a missing peer fails
interop:
	./interop/install.sh && $(GO) test -race -count=1 -tags interop ./interop/

## load: 10,000 concurrent client connections to our server role, then to the server facade (in a
## child process), 5 numbered messages each, none lost, duplicated or reordered; no -race (its limit is 8128 goroutines)
load:
	$(GO) test -tags load -count=1 -run '^TestLoad' -v ./internal/faults/
