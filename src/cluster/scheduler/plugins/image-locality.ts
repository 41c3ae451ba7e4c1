/**
 * ImageLocality score (`pkg/scheduler/framework/plugins/imagelocality`): favours nodes that already
 * report the pod's images in `status.images`. Each present image scores its size scaled by the
 * fraction of nodes that have it (to avoid piling pods onto the one node that pulled an image);
 * the sum is clamped between 23 MiB and 1000 MiB per container and mapped onto 0..100. Weight 1.
 */

import type { NodeInfo } from "../nodeinfo.js";
import { MAX_NODE_SCORE, type Cycle, type ScorePlugin } from "../types.js";

const MB = 1024 * 1024;
/** Lower bound of the image score range (`minThreshold`). */
const MIN_THRESHOLD = 23 * MB;
/** Upper bound per container (`maxContainerThreshold`). */
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** ImageLocality plugin. */
export class ImageLocality implements ScorePlugin<undefined> {
  readonly name = "ImageLocality" as const;

  scoreAll(state: undefined, cycle: Cycle, nodes: readonly NodeInfo[], count: number, out: Float64Array): void {
    // Nodes that report none of the pod's images all score the same: compute it once.
    const none = calculatePriority(0, cycle.pod.images.length);
    let anywhere = false;
    for (const img of cycle.pod.images) if (cycle.snapshot.imageNumNodes(img) > 0) anywhere = true;
    if (!anywhere) {
      out.fill(none, 0, count);
      return;
    }
    for (let i = 0; i < count; i++) out[i] = nodes[i].imageSizes.size === 0 ? none : this.score(state, cycle, nodes[i]);
  }

  score(_state: undefined, cycle: Cycle, node: NodeInfo): number {
    const images = cycle.pod.images;
    let sum = 0;
    if (node.imageSizes.size > 0) {
      const total = cycle.snapshot.numNodes;
      for (let i = 0; i < images.length; i++) {
        const size = node.imageSizes.get(images[i]);
        if (size === undefined) continue;
        // scaledImageScore: int64(size * numNodes/totalNumNodes)
        sum += Math.trunc(size * (cycle.snapshot.imageNumNodes(images[i]) / total));
      }
    }
    return calculatePriority(sum, images.length);
  }
}

/** `calculatePriority`: clamps the summed image score and maps it onto 0..MAX_NODE_SCORE. */
export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  if (maxThreshold <= MIN_THRESHOLD) return 0;
  const clamped = Math.min(Math.max(sumScores, MIN_THRESHOLD), maxThreshold);
  return Math.trunc((MAX_NODE_SCORE * (clamped - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}
