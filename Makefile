# StemeDB developer commands. Needs only Go (see go.mod for the version).
GO        ?= go
DATA_DIR  ?= ./data
ADDR      ?= 127.0.0.1:7070
# Packages whose code runs concurrently get the race detector in `make test`.
RACE_PKGS ?= ./wal/... ./server/... ./ingest/... ./sqlview/... ./host/...

.PHONY: all build run test test-race vet fmt-check bench fuzz clean

all: build

build:
	$(GO) build -o bin/stemedb ./cmd/stemedb

## run: start the server on the embedded store in $(DATA_DIR)
run: build
	./bin/stemedb serve --data-dir $(DATA_DIR) --addr $(ADDR)

## test: formatting, vet, the whole suite, then the race detector on the concurrent packages
test: fmt-check vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## bench: the tables the issues ask for (slow; not part of `make test`)
bench:
	$(GO) test -count=1 -tags bench -run 'TestBenchTable' -v ./... | grep -v '^=== RUN\|^--- PASS\|^PASS\|^ok\|no test files'

clean:
	rm -rf bin
