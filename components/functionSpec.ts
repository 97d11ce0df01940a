/**
 * A function of `openfaas.functions` as OpenFaaS takes it: the body of the gateway's
 * /system/functions API (Community Edition) and the spec of the `openfaas.com/v1` Function custom
 * resource (Pro operator). Both carry the watchdog timeouts of the timeout chain.
 */
import * as crypto from "crypto";
import { FunctionConfig } from "./config";
import { goDuration, TimeoutChain } from "./timeouts";

/** Annotation holding the hash of what we deployed; the deploy script leaves a function alone when it matches. */
export const SPEC_HASH_ANNOTATION = "private-faas/spec-sha256";

/**
 * The function's environment: the watchdog timeouts from the chain, then the configured environment
 * (components/config.ts allows a function to set shorter timeouts, never longer ones).
 */
export function functionEnvironment(fn: FunctionConfig, chain: TimeoutChain): Record<string, string> {
    return {
        exec_timeout: goDuration(chain.functionExec),
        read_timeout: goDuration(chain.functionReadWrite),
        write_timeout: goDuration(chain.functionReadWrite),
        ...fn.environment,
    };
}

/** JSON with object keys sorted at every level: the same spec always gives the same text and hash. */
export function canonicalJson(value: unknown): string {
    const sort = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(sort);
        if (v !== null && typeof v === "object") {
            return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
        }
        return v;
    };
    return JSON.stringify(sort(value));
}

/** A FunctionDeployment (faas-provider types) for POST/PUT /system/functions, with its hash. */
export interface FunctionDeployment {
    service: string;
    image: string;
    namespace: string;
    envVars: Record<string, string>;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    limits?: { cpu?: string; memory?: string };
    requests?: { cpu?: string; memory?: string };
}

export function functionDeployment(
    name: string,
    namespace: string,
    fn: FunctionConfig,
    chain: TimeoutChain,
): { body: FunctionDeployment; json: string; hash: string } {
    const spec: FunctionDeployment = {
        service: name,
        image: fn.image,
        namespace,
        envVars: functionEnvironment(fn, chain),
        labels: { ...fn.labels },
        annotations: { ...fn.annotations },
        ...(fn.limits ? { limits: { ...fn.limits } } : {}),
        ...(fn.requests ? { requests: { ...fn.requests } } : {}),
    };
    const hash = crypto.createHash("sha256").update(canonicalJson(spec)).digest("hex");
    const body = { ...spec, annotations: { ...spec.annotations, [SPEC_HASH_ANNOTATION]: hash } };
    return { body, json: canonicalJson(body), hash };
}

/** Spec of the `openfaas.com/v1` Function custom resource (Pro: the operator reconciles it). */
export function functionResourceSpec(name: string, fn: FunctionConfig, chain: TimeoutChain) {
    return {
        name,
        image: fn.image,
        labels: { ...fn.labels },
        annotations: { ...fn.annotations },
        environment: functionEnvironment(fn, chain),
        ...(fn.limits ? { limits: { ...fn.limits } } : {}),
        ...(fn.requests ? { requests: { ...fn.requests } } : {}),
    };
}
