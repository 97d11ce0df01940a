import * as YAML from "yaml";
import { apiUrl } from "../components/k3sConfig";
import { rewriteKubeconfig } from "../components/kubeconfig";

/** The shape K3s writes to /etc/rancher/k3s/k3s.yaml (certificate data shortened). */
const K3S_YAML = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi1DQQ==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: LS0tLS1DRVJULS0tLQ==
    client-key-data: LS0tLS1LRVktLS0t
`;

describe("rewriteKubeconfig", () => {
    test("points at the API endpoint and names cluster, context and user after the stack", () => {
        const out = YAML.parse(rewriteKubeconfig(K3S_YAML, { server: apiUrl("k8s.example.eu"), name: "ha" }));
        expect(out.clusters).toEqual([{ name: "ha", cluster: { "certificate-authority-data": "LS0tLS1CRUdJTi1DQQ==", server: "https://k8s.example.eu:6443" } }]);
        expect(out.contexts).toEqual([{ name: "ha", context: { cluster: "ha", user: "ha" } }]);
        expect(out.users).toEqual([{ name: "ha", user: { "client-certificate-data": "LS0tLS1DRVJULS0tLQ==", "client-key-data": "LS0tLS1LRVktLS0t" } }]);
        expect(out["current-context"]).toBe("ha");
        expect(out.kind).toBe("Config");
    });

    test("an IPv6 first server is bracketed", () => {
        const out = YAML.parse(rewriteKubeconfig(K3S_YAML, { server: apiUrl("2001:db8::10"), name: "prod" }));
        expect(out.clusters[0].cluster.server).toBe("https://[2001:db8::10]:6443");
    });

    test("text that is not K3s' kubeconfig is refused with a message, not mangled", () => {
        const rewrite = (text: string) => () => rewriteKubeconfig(text, { server: "https://x:6443", name: "s" });
        expect(rewrite("")).toThrow(/not a YAML mapping/);
        expect(rewrite("- a\n- b\n")).toThrow(/not a YAML mapping/);
        expect(rewrite(K3S_YAML.replace("kind: Config", "kind: Pod"))).toThrow(/kind is "Pod"/);
        const twoClusters = YAML.parse(K3S_YAML);
        twoClusters.clusters.push({ name: "other", cluster: { server: "https://y:6443" } });
        expect(rewrite(YAML.stringify(twoClusters))).toThrow(/exactly one entry in "clusters", found 2/);
        const noUser = YAML.parse(K3S_YAML);
        delete noUser.users[0].user;
        expect(rewrite(YAML.stringify(noUser))).toThrow(/users\[0\] has no "user" section/);
    });
});
