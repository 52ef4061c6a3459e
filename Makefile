# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
LINT := $(GO) tool -modfile=tools/go.mod golangci-lint
WITHPG := $(GO) run ./internal/testdb/withpg --
BIN := bin/wdai

.PHONY: run dev demo build test vet lint generate check-generated unit plain bench cover clean tools fuzz graphql-audit chaos chaos-short bench-all
STRIPE_MOCK_VERSION := v0.203.0
export STRIPE_MOCK_BIN := $(CURDIR)/bin/stripe-mock

## run: build wdai and serve it (embedded PostgreSQL under .data/ unless DATABASE_URL is set)
run: build
	./$(BIN) serve

## dev: wdai dev: server, worker, embedded PostgreSQL and the provider stand-ins (Stripe, Clerk,
## Mailchimp, Luma, Slack) on loopback; GraphiQL signed in; `wdai dev simulate ...` drives them
dev: build
	./$(BIN) dev

## demo: start wdai dev in a throwaway folder and walk one member through the whole life;
## exits 0 only if every step happened
demo: build
	./scripts/demo.sh

build:
	$(GO) build -o $(BIN) ./cmd/wdai

## test: vet, lint, stale-generated-code check, then every test with -race on a real PostgreSQL
test: vet lint check-generated unit plain

vet:
	$(GO) vet ./...

lint:
	$(LINT) run ./...

## generate: regenerate gqlgen code and mockgen mocks
generate:
	$(GO) tool gqlgen generate
	$(GO) generate ./ports/...

## check-generated: fail when generated code differs from what `make generate` writes
check-generated:
	./scripts/check-generated.sh

## tools: test peers built from the Go module proxy (stripe-mock)
tools: bin/stripe-mock

bin/stripe-mock:
	GOBIN=$(CURDIR)/bin $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

## unit: go test -race ./... against TEST_DATABASE_URL, or a throwaway embedded cluster
unit: tools
	$(WITHPG) $(GO) test -race -count=1 -timeout 8m ./...

## plain: a plain `go test` with no TEST_DATABASE_URL still reaches a database
## (the test binary starts its own throwaway cluster)
plain:
	env -u TEST_DATABASE_URL $(GO) test -count=1 -v -run '^TestAgentKeyStoreKeepsOnlyTheHash$$' ./adapters/postgres/ \
		| grep -- '--- PASS: TestAgentKeyStoreKeepsOnlyTheHash'

## bench: P1–P8 (docs/performance.md), each figure beside a baseline measured in the same run, as one
## table; writes it to docs/performance.md with the date and the machine (about 5 minutes)
bench: tools
	$(WITHPG) $(GO) run ./cmd/benchtable -out docs/performance.md

## bench-all: every benchmark of every package, as `go test -bench` prints them
bench-all: tools
	$(WITHPG) $(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 20m ./...

## chaos: every fault the platform must survive (R1–R10 in docs/reliability.md) against the real
## binary, a real PostgreSQL and the provider stand-ins, one figure each; writes docs/reliability.md
## (about 10 minutes; CHAOS_FUZZTIME sets R7's time per fuzz target, default 60s, and
## CHAOS_FUZZ_MIN_INPUTS the inputs each must run, default 1000)
chaos: tools
	$(WITHPG) ./scripts/chaos.sh

## chaos-short: R1, R3 and R4 at a smaller scale, then the log scan (R10); CI runs it
chaos-short: tools
	CHAOS_SCALE=short $(WITHPG) ./scripts/chaos.sh

## fuzz: explore the GraphQL request path (document and variables) for FUZZTIME (default 2m);
## `make test` runs only the seed corpus
FUZZTIME ?= 2m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzGraphQLRequest$$' -fuzztime $(FUZZTIME) ./graph/

## graphql-audit: the graphql-http GraphQL-over-HTTP audit against /graphql (needs node and npm)
graphql-audit:
	npm ci --prefix scripts/graphql-http-audit --no-audit --no-fund
	$(GO) test -count=1 -run '^TestGraphQLOverHTTPAudit$$' -v ./graph/

## cover: statement coverage of the domain core
cover:
	$(GO) test -cover ./domain/...

clean:
	rm -rf bin
