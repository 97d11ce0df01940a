import { makePolicies } from "../policies/pack";
import { PolicyConfigError, resolvePolicyConfig, schemaProblems } from "../tools/policyEval";

const problemsOf = (text: string) => {
    try {
        resolvePolicyConfig(makePolicies(), text, "cfg.json");
    } catch (err) {
        if (err instanceof PolicyConfigError) return err.problems.map((p) => `${p.key}: got ${p.value}; expected ${p.expected}`);
        throw err;
    }
    return [];
};

describe("policy config, as pulumi --policy-pack-config reads it", () => {
    test("no config: the policies' own levels and the schemas' defaults", () => {
        const c = resolvePolicyConfig(makePolicies());
        expect(c.get("eu-eea-data-residency")).toEqual({ enforcementLevel: "mandatory", properties: { allowedCountries: expect.arrayContaining(["NO", "IS", "LI", "DE"]) } });
        expect(c.get("min-node-size")).toEqual({ enforcementLevel: "advisory", properties: { minVcpu: 4, minMemoryGb: 8 } });
        expect(c.get("ssh-key-auth-only")).toEqual({ enforcementLevel: "mandatory", properties: {} });
    });

    test('"all" sets every level, a policy entry overrides it, string shorthand and object form', () => {
        const c = resolvePolicyConfig(makePolicies(), JSON.stringify({ all: "advisory", "nvme-storage-required": "mandatory", "min-node-size": { enforcementLevel: "disabled", minVcpu: 2 } }));
        expect(c.get("eu-eea-data-residency")!.enforcementLevel).toBe("advisory");
        expect(c.get("nvme-storage-required")!.enforcementLevel).toBe("mandatory");
        expect(c.get("min-node-size")).toEqual({ enforcementLevel: "disabled", properties: { minVcpu: 2, minMemoryGb: 8 } });
    });

    test("every problem at once, each with key, value and expectation", () => {
        expect(problemsOf(JSON.stringify({ all: "loud", "etcd-quorum-odd": 3, "eu-eea-data-residency": { allowedCountries: [] }, typo: "advisory" }))).toEqual([
            'all: got "loud"; expected an enforcement level ("advisory", "mandatory", "remediate", "disabled")',
            'etcd-quorum-odd: got 3; expected an enforcement level ("advisory", "mandatory", "remediate", "disabled") or an object of settings',
            'typo: got settings for it; expected a policy of the pack (eu-eea-data-residency, nvme-storage-required, no-us-cloud-act-providers, k3s-version-pinned, etcd-quorum-odd, ssh-key-auth-only, secrets-encryption-at-rest, openfaas-admin-not-public, openfaas-ce-limits, min-node-size) or "all"',
            "eu-eea-data-residency.allowedCountries: got []; expected a list of at least 1 item(s)",
        ]);
        expect(problemsOf("{not json")[0]).toMatch(/^cfg\.json: got text that is not JSON; expected a JSON object/);
        expect(problemsOf("[]")[0]).toMatch(/^cfg\.json: got \[\]; expected a JSON object/);
        expect(problemsOf(JSON.stringify({ "min-node-size": { minMemoryGb: 0, extra: true } }))).toEqual([
            "min-node-size.minMemoryGb: got 0; expected more than 0",
            "min-node-size.extra: got true; expected a setting of min-node-size (enforcementLevel, minVcpu, minMemoryGb)",
        ]);
        expect(problemsOf(JSON.stringify({ "no-us-cloud-act-providers": { jurisdictions: ["US", "US"] } }))).toEqual([
            'no-us-cloud-act-providers.jurisdictions: got ["US","US"]; expected a list without repeated items',
        ]);
    });

    test("a schema keyword the evaluator does not implement is an error, not a silent pass", () => {
        expect(() => schemaProblems({ type: "string", format: "email" }, "x", "k")).toThrow(/keyword "format" is not supported/);
    });
});
