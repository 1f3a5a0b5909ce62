# Deployment targets: images (ko), Knative (kustomize + kubectl), OpenFaaS (faas-cli), and the
# HTTPRoutes generated from the route table. Included by the Makefile; see the README, "Deploying".
#
#   make images          REGISTRY=registry.example/jinlaiban TAG=v1.4.0
#   make deploy-knative  REGISTRY=… TAG=…      (renders, migrates, then serves)
#   make deploy-openfaas REGISTRY=… TAG=…      (migrate Job in openfaas-fn, then faas-cli deploy)
#
# Rendered manifests go to $(DEPLOY_OUT) (under .devstack/, which git ignores); they hold
# image digests and Secret names, never secret values.

REGISTRY       ?= ghcr.io/jinlaiban
TAG            ?= latest
KO_DOCKER_REPO ?= $(REGISTRY)
KO             ?= ko
KUBECTL        ?= kubectl
FAAS_CLI       ?= faas-cli
KNATIVE_NS     ?= jinlaiban-open
OPENFAAS_FN_NS ?= openfaas-fn
MIGRATE_WAIT   ?= 600
DEPLOY_OUT     ?= $(or $(DEVDATA),.devstack)/deploy
# Every function (a directory under functions/ with a go.mod): ko builds them all.
DEPLOY_FUNCTIONS := $(patsubst %/go.mod,%,$(wildcard functions/*/go.mod))
KO_FLAGS       := -B --tags=$(TAG)
STEP_LABEL     := openplatform.jinlaiban/deploy-step

.PHONY: images images-check deploy-knative deploy-openfaas migrate-openfaas httproutes deploy-check

images: ## build and push every function's image with ko (REGISTRY or KO_DOCKER_REPO, TAG)
	KO_DOCKER_REPO=$(KO_DOCKER_REPO) $(KO) build $(KO_FLAGS) $(addprefix ./,$(DEPLOY_FUNCTIONS))

images-check: ## check the image builds without a registry (static builds; ko against a local stand-in)
	infra/checks/images-check.sh

deploy-check: ## the deployment wiring's tests (infra/checks): manifests, stack.yml, routes, budget
	cd infra/checks && $(or $(GO),go) test -count=1 ./...

# Knative: render the kustomization with built images (ko resolve pushes them), then apply it
# in three steps by label: the namespace and config; the migrate Job, waited for; the rest.
deploy-knative: ## render infra/knative with ko, run the migrate Job, then apply the Services, Broker, HTTPRoutes
	@mkdir -p $(DEPLOY_OUT)
	$(KUBECTL) kustomize infra/knative | KO_DOCKER_REPO=$(KO_DOCKER_REPO) $(KO) resolve $(KO_FLAGS) -f - > $(DEPLOY_OUT)/knative.yaml
	$(KUBECTL) apply -f $(DEPLOY_OUT)/knative.yaml -l $(STEP_LABEL)=prepare
	$(KUBECTL) -n $(KNATIVE_NS) delete job migrate --ignore-not-found --wait
	$(KUBECTL) apply -f $(DEPLOY_OUT)/knative.yaml -l $(STEP_LABEL)=migrate
	@$(call wait-for-job,$(KNATIVE_NS))
	$(KUBECTL) apply -f $(DEPLOY_OUT)/knative.yaml -l $(STEP_LABEL)=serve
	$(KUBECTL) -n $(KNATIVE_NS) wait --for=condition=Ready --timeout=5m ksvc --all

# OpenFaaS: the migrate Job runs in the function namespace (the OpenFaaS secrets there have
# the names the Job expects), then faas-cli deploys stack.yml with the images `make images`
# pushed under the same REGISTRY and TAG.
migrate-openfaas: ## run the migrate Job in OpenFaaS's function namespace and wait for it
	@mkdir -p $(DEPLOY_OUT)
	KO_DOCKER_REPO=$(KO_DOCKER_REPO) $(KO) resolve $(KO_FLAGS) -f infra/knative/migrate-job.yaml > $(DEPLOY_OUT)/migrate-openfaas.yaml
	$(KUBECTL) -n $(OPENFAAS_FN_NS) delete job migrate --ignore-not-found --wait
	$(KUBECTL) -n $(OPENFAAS_FN_NS) apply -f $(DEPLOY_OUT)/migrate-openfaas.yaml
	@$(call wait-for-job,$(OPENFAAS_FN_NS))

deploy-openfaas: migrate-openfaas ## migrate, then faas-cli deploy -f stack.yml (REGISTRY, TAG as for make images)
	REGISTRY=$(REGISTRY) TAG=$(TAG) $(FAAS_CLI) deploy -f stack.yml

httproutes: ## regenerate the Gateway API HTTPRoutes from infra/gateway/routes.yaml
	cd infra/checks && $(or $(GO),go) run ./cmd/httproutes -target knative -out ../knative/httproutes.yaml
	cd infra/checks && $(or $(GO),go) run ./cmd/httproutes -target openfaas -out ../gateway/httproutes-openfaas.yaml

# wait-for-job NAMESPACE: wait for Job migrate to complete; on failure or timeout show its
# Pods and logs and fail.
define wait-for-job
	ns=$(1); \
	for i in $$(seq 1 $$(( $(MIGRATE_WAIT) / 5 ))); do \
		state=$$($(KUBECTL) -n $$ns get job migrate -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}'); \
		case "$$state" in \
			*Complete*) echo "migrate: complete"; exit 0 ;; \
			*Failed*) break ;; \
		esac; \
		sleep 5; \
	done; \
	echo "migrate: did not complete (state: $${state:-running})"; \
	$(KUBECTL) -n $$ns get pods -l job-name=migrate; \
	$(KUBECTL) -n $$ns logs job/migrate --tail=50 || true; \
	exit 1
endef
