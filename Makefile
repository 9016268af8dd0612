# trek — two commands do everything on a fresh machine with Go installed:
#   make demo   builds trek and serves a populated workspace on http://127.0.0.1:8080
#   make test   runs every check and test
GO        ?= go
BIN       := bin/trek
DEMO_DATA ?= .demo-data
DEMO_ADDR ?= 127.0.0.1:8080
# The demo's admin password; set TREK_ADMIN_PASSWORD to choose another.
TREK_ADMIN_PASSWORD ?= trek-demo-password

.PHONY: build demo test lint unit race fuzz bench bench-funnel pgo clean web-test web-build web-screenshots

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/trek

# The demo's generated data: 5,000 customers over the last 90 days, with
# every planted effect switched on (see docs/gen.md).
DEMO_GEN ?= --customers 5000 --effects checkout-fails-on=android,better-channel=email,call-loop

demo: build
	@if [ ! -d $(DEMO_DATA)/events ]; then \
	  ./$(BIN) gen --data $(DEMO_DATA) $(DEMO_GEN) --start $$(date -u -d '-90 days' +%F) --quiet; \
	fi
	@echo "trek demo: log in as admin / $(TREK_ADMIN_PASSWORD) (data in $(DEMO_DATA))"
	TREK_ADMIN_PASSWORD='$(TREK_ADMIN_PASSWORD)' ./$(BIN) serve --data $(DEMO_DATA) --addr $(DEMO_ADDR) --demo --secure-cookies=false

test: lint unit web-test

# The web app (web/): the committed build in web/dist must match the
# sources, then component tests (Vitest) and end-to-end tests in Debian's
# Chromium against the real server. Needs 'npm ci --prefix web' once.
web-test: build
	web/check-dist.sh
	npm test --prefix web
	TREK_BIN=$(BIN) npm run e2e --prefix web

# Rebuilds web/dist after a change to the app's sources; commit the result.
web-build:
	npm run build --prefix web

# Refreshes the screenshots the README shows.
web-screenshots: build
	SCREENSHOTS_DIR=docs/screenshots TREK_BIN=$(BIN) npm run e2e --prefix web

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# -race on everything: the server, the stores and the CLI are concurrent.
unit:
	$(GO) test -race -count=1 ./...

# Short runs of every fuzz target; FUZZTIME=5m for a longer hunt.
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# pgo refreshes cmd/trek/default.pgo, the CPU profile the Go compiler
# optimises the trek binary for (inlining and layout of the hot paths), from
# the benchmarks of imports and of collection over HTTP. A stale profile
# is still valid; refresh it when the hot paths change.
pgo:
	@d=$$(mktemp -d) && \
	$(GO) test -run '^$$' -bench 'Import(XES|NDJSON)/pipeline' -benchtime 5x -o $$d/ingest.test -cpuprofile $$d/import.prof ./internal/ingest && \
	$(GO) test -run '^$$' -bench 'CollectHTTP$$' -benchtime 3000x -o $$d/server.test -cpuprofile $$d/collect.prof ./internal/server && \
	$(GO) tool pprof -proto $$d/import.prof $$d/collect.prof > cmd/trek/default.pgo && \
	rm -rf $$d

# Benchmarks are built with the profile the trek binary is built with
# (cmd/trek/default.pgo), so that they measure the code trek runs.
bench:
	$(GO) test -pgo=$(CURDIR)/cmd/trek/default.pgo -run '^$$' -bench . -benchmem ./...

# The 5-step funnel over generated data, in trek and in ClickHouse, at the
# issue's sizes: make bench-funnel BENCH_EVENTS=100000000 (see
# docs/benchmarks.md, "Analytics"). make bench runs it on a million events.
BENCH_EVENTS ?= 10000000
bench-funnel:
	TREK_BENCH_EVENTS=$(BENCH_EVENTS) $(GO) test -run '^$$' -bench 'FunnelVsClickHouse' -benchtime 5x -timeout 3h ./internal/analytics

clean:
	rm -rf bin $(DEMO_DATA)
