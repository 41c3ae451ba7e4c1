/** `kubelings init [DIR]`: create a learner repository from the template. */
import { fileURLToPath } from "node:url";
import { RealClock } from "../api/clock.js";
import { InitError, initRepository } from "../gitops/init-repo.js";

/** The template folder shipped with kubelings. */
export const TEMPLATE_DIR = fileURLToPath(new URL("../../" + (import.meta.url.includes("/dist/") ? "../" : "") + "cluster-repo/", import.meta.url));

/** Runs `init`; returns the exit code. */
export async function runInit(dir: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  try {
    const oid = await initRepository(dir, { template: TEMPLATE_DIR, clock: new RealClock() });
    out.write(`Created ${dir} (a git repository on branch main, first commit ${oid.slice(0, 7)}).\n`);
    out.write(`Edit its YAML files and commit them: kubelings syncs every commit into the cluster.\n`);
    return 0;
  } catch (e) {
    if (e instanceof InitError) {
      err.write(`kubelings init: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
