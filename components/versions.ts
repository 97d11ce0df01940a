/**
 * Every pinned version this program installs, one constant per thing. Each comment says where the
 * version was checked; bump a chart together with its key-path list in tests/data/ (tests compare the
 * values we set against it).
 */

/** OpenFaaS Helm repository (charts `openfaas` and `queue-worker`). */
export const OPENFAAS_CHART_REPO = "https://openfaas.github.io/faas-netes/";

/**
 * Chart `openfaas`. Checked: chart/openfaas/Chart.yaml says 15.0.13 at commit 78f930b5 of the fork of
 * OpenFaaS maintainer Han Verstraete (github.com/welteki/faas-netes), the newest 15.0.x the search tool
 * had (the reference sheet saw 15.0.6 released on 2026-05-13). Key paths: tests/data/openfaas-15.0.13.values-paths.
 */
export const OPENFAAS_CHART_VERSION = "15.0.13";

/**
 * Chart `queue-worker` (dedicated JetStream queues, OpenFaaS for Enterprises). Checked:
 * chart/queue-worker/Chart.yaml of github.com/welteki/faas-netes (commit 33a9b46). Key paths:
 * tests/data/queue-worker.values-paths.
 */
export const OPENFAAS_QUEUE_WORKER_CHART_VERSION = "0.2.32";

/** Jetstack Helm repository (chart `cert-manager`). */
export const CERT_MANAGER_CHART_REPO = "https://charts.jetstack.io";

/**
 * Chart `cert-manager`. Checked: v1.21.2 is the newest release seen installed in public repositories
 * in 2026 (`helm install ... jetstack/cert-manager --version v1.21.2`); no v1.22 seen. Key paths:
 * tests/data/cert-manager-v1.values-paths.
 */
export const CERT_MANAGER_CHART_VERSION = "v1.21.2";
