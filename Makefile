# tableau-operator: the README's two commands are `make demo` and `make test`.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(CURDIR)/bin
# One build mode for every go command here and the ones they start (tests that build the binary
# or the image, go run): static (CGO_ENABLED=0) and trimmed (-trimpath), as the tool recipes
# (hack/*.sh) and the image's operator build (hack/image.sh, reproducible) compile. A package's
# compiled form in the Go build cache depends on both, so in one mode client-go, apimachinery,
# grpc, ... compile once for the tools, go vet, the tests and the image instead of once per
# mode. GOFLAGS keeps what `go env` has (the environment or the go env file).
export CGO_ENABLED := 0
export GOFLAGS := $(strip $(filter-out -trimpath,$(shell go env GOFLAGS)) -trimpath)
# The timeout is above go test's default of 10 minutes for a loaded machine: on a cold one,
# hack/tools/image's TestImage compiles the operator (static, trimmed) inside its test binary's run.
GO_TEST_FLAGS ?= -count=1 -timeout=30m
# The envtest suites (controllers/suites/...) mostly wait on real time (a simulated Tableau,
# the API server, the operator's backoff), not on the CPU: `make test` runs more test
# binaries at once than the machine has cores (-p), and more of a suite's parallel tests at
# once than GOMAXPROCS (-parallel), so their waits overlap. The seven suites on 2 shared
# cores: 276 s at go test's default (-p 2), 218-241 s at -p 4, 182-210 s at -p 7; -p 4 takes
# most of the gain with at most four control planes (etcd and kube-apiserver each) at once.
GO_TEST_PARALLELISM ?= -p 4 -parallel 8

.PHONY: all
all: build

##@ Development

.PHONY: generate
generate: ## Write the deepcopy functions of the API types.
	controller_gen=$$(hack/controller-gen.sh); \
	"$$controller_gen" object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: manifests
manifests: ## Write the CRDs (config/crd/bases) and RBAC (config/rbac/role.yaml).
	controller_gen=$$(hack/controller-gen.sh); \
	"$$controller_gen" rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/copy-generated.sh

.PHONY: argocd-cm
argocd-cm: ## Write config/argocd/argocd-cm.yaml from the Argo CD health checks (config/argocd/*/*/health.lua).
	go run ./hack/argocd-cm

.PHONY: verify-generated
verify-generated: ## Fail when `make generate manifests` changes any generated file.
	hack/verify-generated.sh "$(MAKE)"

.PHONY: lint
lint: ## go vet and a gofmt check.
	go vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [[ -n "$$out" ]]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: controller-gen
controller-gen: ## Build controller-gen from Go modules (cached) and print its path.
	@hack/controller-gen.sh

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd and kubectl from Go modules (cached) and print their directory.
	@hack/envtest.sh

.PHONY: helm
helm: ## Build helm from Go modules (cached) and print its directory.
	@hack/helm.sh

.PHONY: test
test: verify-generated lint test-monitoring test-bundle test-image-tool ## The whole suite: generated files fresh, vet, gofmt, unit, envtest, the binary's black-box tests (internal/binarytest), chart tests, alerts and dashboard, OLM bundle, image.
	assets=$$(hack/envtest.sh); helm=$$(hack/helm.sh); \
	KUBEBUILDER_ASSETS="$$assets" HELM="$$helm/helm" go test $(GO_TEST_FLAGS) $(GO_TEST_PARALLELISM) ./...

.PHONY: promtool
promtool: ## Build promtool from Go modules (cached) and print its path.
	@hack/promtool.sh

.PHONY: test-monitoring
test-monitoring: ## promtool check and unit-test the alerting rules; test the PrometheusRule, runbook anchors, dashboard and their kustomizations.
	promtool=$$(hack/promtool.sh); \
	"$$promtool" check rules config/prometheus/tableau-operator.rules.yaml; \
	"$$promtool" test rules config/prometheus/rules_test.yaml
	assets=$$(hack/envtest.sh); \
	cd hack/tools/promtool && go vet ./... && KUBEBUILDER_ASSETS="$$assets" go test $(GO_TEST_FLAGS) ./...
	cd hack/tools/dashboard-png && go vet ./... && go test $(GO_TEST_FLAGS) ./...

.PHONY: test-bundle
test-bundle: ## Generate the OLM bundle from config/manifests and validate it with the operator-framework's validators (operator-sdk's suite=operatorframework), offline.
	assets=$$(hack/envtest.sh); \
	cd hack/tools/bundle && go vet ./... && KUBEBUILDER_ASSETS="$$assets" go test $(GO_TEST_FLAGS) ./...

.PHONY: test-image-tool
test-image-tool: ## Test the image tool (hack/tools/image): its SBOM; TestImage builds the operator's image for the host with hack/image.sh and runs the manager from it; TestImageOfTwoPlatforms assembles a linux/amd64 and linux/arm64 image of a small program.
	assets=$$(hack/envtest.sh); \
	cd hack/tools/image && go vet ./... && KUBEBUILDER_ASSETS="$$assets" go test $(GO_TEST_FLAGS) ./...

.PHONY: dashboard-png
dashboard-png: ## Record the metrics of an envtest rotation run and draw config/grafana/rotation-wave.png from them.
	mkdir -p $(LOCALBIN)
	assets=$$(hack/envtest.sh); \
	KUBEBUILDER_ASSETS="$$assets" TABLEAU_OPERATOR_RECORD_METRICS=$(LOCALBIN)/metrics.jsonl go test -count=1 -run TestMetricsFollowAConnection ./controllers/suites/connection/
	cd hack/tools/dashboard-png && go run . -in $(LOCALBIN)/metrics.jsonl -out $(CURDIR)/config/grafana/rotation-wave.png

##@ Demo and benchmarks

.PHONY: demo
demo: build ## The operator on a local control plane against the Tableau simulator (DEMO_KEEP=1 keeps it running).
	assets=$$(hack/envtest.sh); \
	KUBEBUILDER_ASSETS="$$assets" go run ./hack/demo --operator $(LOCALBIN)/tableau-operator

.PHONY: bench
bench: build ## 1,000 connections on a local control plane: time to Ready, calls, writes, heap, 2 minutes of steady state, then restarts beside 0 and 20,000 unrelated Secrets; BENCH_ROTATE=1: a fleet's rotation wave instead, its cost per rotated tenant; BENCH_AUTOMATIC=1: connected-app automatic rotation, its cost per rotation.
	assets=$$(hack/envtest.sh); \
	KUBEBUILDER_ASSETS="$$assets" go run ./hack/bench --operator $(LOCALBIN)/tableau-operator

##@ Build

.PHONY: build
build: ## Build bin/tableau-operator, stamped with the version (VERSION, REVISION, SOURCE_DATE_EPOCH override it).
	go build -ldflags "$$(hack/version.sh)" -o $(LOCALBIN)/tableau-operator .

.PHONY: image
image: ## Build the OCI image (linux/amd64, linux/arm64) without Docker into bin/image, with its CycloneDX SBOM attached as a referrer; IMG names it.
	hack/image.sh

.PHONY: bundle
bundle: ## Write the OLM bundle (CSV, CRDs, metrics Service, metadata/annotations.yaml) to bin/bundle from config/manifests; IMG names the image.
	assets=$$(hack/envtest.sh); source hack/version.sh; \
	"$$assets/kubectl" kustomize config/manifests | \
	(cd hack/tools/bundle && go run . --out $(LOCALBIN)/bundle --version "$$VERSION" --image "$${IMG:-tableau-operator:$$VERSION}")

.PHONY: run
run: manifests generate ## Run the operator against the cluster in KUBECONFIG.
	go run . --health-probe-bind-address=:8081 --metrics-bind-address=:8080 --metrics-secure=false

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
