/**
 * The kinds a controller works on when it works on "every resource": one version per resource,
 * the first the registry serves (the preferred one, e.g. autoscaling/v2 for HPAs), as upstream's
 * discovery helpers `GetDeletableResources` (garbage collector) and
 * `ServerPreferredNamespacedResources` (namespace controller) list the preferred version of each
 * group/resource.
 */
import { KINDS, type KindInfo } from "../../api/kinds.js";

/** The preferred version of every served resource that `include` accepts, in registry order. */
export function preferredKinds(include: (info: KindInfo) => boolean): KindInfo[] {
  const seen = new Set<string>();
  const out: KindInfo[] = [];
  for (const info of KINDS) {
    if (!include(info)) continue;
    const key = `${info.group}/${info.resource}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(info);
  }
  return out;
}
