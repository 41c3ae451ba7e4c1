/** `kubelings api-resources`: the kind registry, printed like `kubectl api-resources`. */
import { KINDS } from "../api/kinds.js";

/** Prints the served kinds; returns the exit code. */
export function apiResources(format: string, out: NodeJS.WritableStream): number {
  if (format === "json") {
    out.write(
      JSON.stringify(
        KINDS.map((k) => ({ name: k.resource, shortNames: k.shortNames, apiVersion: k.apiVersion, namespaced: k.namespaced, kind: k.kind })),
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  if (format !== "table") {
    process.stderr.write(`kubelings: unknown output format "${format}": use table or json\n`);
    return 2;
  }
  const rows = [["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]];
  for (const k of KINDS) rows.push([k.resource, k.shortNames.join(","), k.apiVersion, String(k.namespaced), k.kind]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) out.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join("") + "\n");
  return 0;
}
