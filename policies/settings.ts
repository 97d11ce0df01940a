/**
 * Policy settings and message helpers shared by the policies.
 */
import type { PolicyConfigSchema, ReportViolation, ResourceValidation, ResourceValidationPolicy, StackValidation } from "@pulumi/policy";
import type { Props } from "./facts";

/**
 * A policy of this pack. Some have both a resource phase (inputs, before anything is deployed) and a
 * stack phase (registered outputs, at the end); the @pulumi/policy runtime runs each function in its
 * phase, as it checks `validateResource` and `validateStack` separately.
 */
export type PackPolicy = Omit<ResourceValidationPolicy, "validateResource"> & {
    validateResource?: ResourceValidation | ResourceValidation[];
    validateStack?: StackValidation;
};

/**
 * The policy's settings: the schema's defaults overlaid with what the policy config gives. The
 * Pulumi CLI fills in the defaults itself; doing it here too keeps a policy right when it runs with
 * no config at all.
 */
export function settingsOf(schema: PolicyConfigSchema | undefined, args: { getConfig<T extends object>(): T }): Props {
    const out: Props = {};
    for (const [key, property] of Object.entries(schema?.properties ?? {})) {
        if (typeof property === "object" && property.default !== undefined) out[key] = property.default;
    }
    return { ...out, ...(args.getConfig<Props>() ?? {}) };
}

/** "a", "a or b", "a, b or c". */
export function either(items: readonly string[]): string {
    if (items.length <= 1) return items.join("");
    return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** Runs several resource validations as one. */
export function allOf(...validations: ResourceValidation[]): ResourceValidation {
    return async (args, report: ReportViolation) => {
        for (const v of validations) await v(args, report);
    };
}
