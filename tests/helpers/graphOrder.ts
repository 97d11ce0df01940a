/**
 * The orders the Pulumi engine gives resources from their dependencies (explicit and property),
 * computed from recorded or planned resources: deletion (each after everything that depends on it).
 */
export interface GraphNode {
    urn: string;
    name: string;
    dependsOn: string[];
}

/**
 * The waves in which the engine deletes the resources of OLD whose URNs are not in KEPT: a resource
 * goes once nothing that depends on it (in OLD's recorded dependencies) is left to delete.
 */
export function deletionWaves<T extends GraphNode>(old: T[], kept: Set<string>): T[][] {
    let pending = old.filter((r) => !kept.has(r.urn));
    const waves: T[][] = [];
    while (pending.length > 0) {
        const wave = pending.filter((r) => !pending.some((d) => d !== r && d.dependsOn.includes(r.urn)));
        if (wave.length === 0) throw new Error("dependency cycle among the deleted resources");
        waves.push(wave);
        pending = pending.filter((r) => !wave.includes(r));
    }
    return waves;
}
