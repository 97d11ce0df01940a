/**
 * Typos in Helm values are caught: every key path our values functions set must exist in the chart's
 * values.yaml at the pinned version (key lists in tests/data/, derived with `npm run values:paths`).
 */
import * as path from "path";
import * as YAML from "yaml";
import { certManagerValues } from "../components/ingressSpec";
import { dedicatedQueueValues, openfaasValues } from "../components/openfaasValues";
import { timeoutChain } from "../components/timeouts";
import { traefikValues } from "../components/traefikValues";
import { OPENFAAS_CHART_VERSION } from "../components/versions";
import { readPathsFile, unknownPaths, valuePaths } from "../tools/valuePaths";
import { proConfig, stackConfig } from "./helpers/stackConfig";

const data = (name: string) => readPathsFile(path.join(__dirname, "data", name));
const chain = timeoutChain(300);
const retries = { retries: { attempts: 3, initialWaitSeconds: 1, maxWaitSeconds: 30, httpCodes: [502] } };

describe("key paths we set exist in the charts", () => {
    const openfaasKeys = data(`openfaas-${OPENFAAS_CHART_VERSION}.values-paths`);

    test("the key list belongs to the pinned openfaas chart version", () => {
        expect(openfaasKeys).toContain("queueWorkerPro.maxInflight");
        expect(openfaasKeys.length).toBeGreaterThan(150);
    });

    test.each([
        ["CE", stackConfig({ openfaas: { queue: { parallelism: 3 } } })],
        ["Pro", proConfig({ gatewayReplicas: 2, queue: { parallelism: 5, ...retries } })],
    ])("openfaas chart, %s", (_edition, config) => {
        expect(unknownPaths(valuePaths(openfaasValues(config.openfaas, chain)), openfaasKeys)).toEqual([]);
    });

    test("queue-worker chart (dedicated queues)", () => {
        const values = dedicatedQueueValues("slow", 2, chain, retries.retries);
        expect(unknownPaths(valuePaths(values), data("queue-worker.values-paths"))).toEqual([]);
    });

    test("Traefik chart (K3s HelmChartConfig)", () => {
        expect(unknownPaths(valuePaths(traefikValues(chain, ["a1", "a2"], ["192.0.2.80", "2001:db8::80"])), data("traefik-v3.values-paths"))).toEqual([]);
    });

    test("cert-manager chart", () => {
        expect(unknownPaths(valuePaths(certManagerValues()), data("cert-manager-v1.values-paths"))).toEqual([]);
    });
});

describe("the key-path check itself", () => {
    const known = ["gateway.readTimeout", "gateway.resources.requests.cpu", "securityContext.*", "nodeSelector.*", "queueWorker.replicas"];

    test("a misspelt or invented key is reported", () => {
        const set = valuePaths({ gateway: { readTimout: "1s" }, queueWorker: { replica: 2 }, basicAuth: true });
        expect(unknownPaths(set, known)).toEqual(["basicAuth", "gateway.readTimout", "queueWorker.replica"]);
    });

    test("keys below an empty map or a pass-through Kubernetes object are accepted", () => {
        const set = valuePaths({ securityContext: { runAsUser: 1 }, gateway: { resources: { limits: { memory: "1Gi" } } }, nodeSelector: { a: "b" } });
        expect(unknownPaths(set, known)).toEqual([]);
    });

    test("a pass-through name the chart does not have is still reported", () => {
        expect(unknownPaths(valuePaths({ queueWorker: { resource: { limits: { memory: "1Gi" } } } }), known)).toEqual(["queueWorker.resource.limits.memory"]);
        expect(unknownPaths(valuePaths({ nats: { resources: { limits: { memory: "1Gi" } } } }), known)).toEqual(["nats.resources.limits.memory"]);
    });

    test("valuePaths lists leaves, lists as leaves, empty maps as .*", () => {
        expect(valuePaths(YAML.parse("a: {b: 1, c: [1, 2]}\nd: {}\ne: null\n"))).toEqual(["a.b", "a.c", "d.*", "e"]);
    });
});
