# StemeDB developer commands. Needs only Go (see go.mod for the version).
GO        ?= go
DATA_DIR  ?= ./data
ADDR      ?= 127.0.0.1:7070
# Packages whose code runs concurrently get the race detector in `make test`.
RACE_PKGS ?= ./wal/... ./server/... ./ingest/... ./sqlview/... ./host/... ./materialize/... ./node/...
# The committed lenses-wasm/builtins.wasm is reproducible only with this exact toolchain.
LENSES_GO ?= go1.26.8
WASM_BUILD = GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags='-buildid= -s -w'

.PHONY: all build run test vet fmt-check bench lenses lenses-check clean

all: build

build:
	$(GO) build -o bin/stemedb ./cmd/stemedb

## run: start the server on the embedded store in $(DATA_DIR)
run: build
	./bin/stemedb serve --data-dir $(DATA_DIR) --addr $(ADDR)

## test: formatting, vet, the built-in lens module's freshness, the whole suite, then the
## race detector on the concurrent packages
test: fmt-check vet lenses-check
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

vet:
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./lenses-wasm/...

## lenses: rebuild the committed built-in lens module after changing lenses-wasm/sdk or builtin
lenses:
	$(WASM_BUILD) -o lenses-wasm/builtins.wasm ./lenses-wasm/cmd/builtins

## lenses-check: fail if lenses-wasm/builtins.wasm differs from a fresh build (same toolchain)
lenses-check:
	@if [ "$$($(GO) env GOVERSION)" != "$(LENSES_GO)" ]; then \
		echo "lenses-check: skipped, $$($(GO) env GOVERSION) is not $(LENSES_GO) (the module's toolchain)"; exit 0; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(WASM_BUILD) -o $$tmp/builtins.wasm ./lenses-wasm/cmd/builtins && \
	if cmp -s $$tmp/builtins.wasm lenses-wasm/builtins.wasm; then echo "lenses-check: builtins.wasm matches a fresh build"; \
	else echo "lenses-wasm/builtins.wasm is stale: run make lenses"; exit 1; fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## bench: the tables the issues ask for (slow; not part of `make test`)
bench:
	$(GO) test -p 1 -count=1 -timeout 30m -tags bench -run 'TestBenchTable' -v ./... 2>&1 | grep -v '^=== RUN\|^--- PASS\|^PASS\|^ok\|no test files'

clean:
	rm -rf bin
