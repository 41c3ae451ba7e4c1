/** Score normalisation shared by plugins (`pkg/scheduler/framework/plugins/helper/normalize_score.go`). */

import { MAX_NODE_SCORE } from "../types.js";

/**
 * `helper.DefaultNormalizeScore`: scales scores to 0..MAX_NODE_SCORE by the highest score (integer
 * division), and with `reverse` turns them around so that the lowest raw score wins. When every
 * score is 0, `reverse` gives every node the maximum.
 */
export function defaultNormalizeScore(scores: Float64Array, count: number, reverse: boolean): void {
  let max = 0;
  for (let i = 0; i < count; i++) if (scores[i] > max) max = scores[i];
  if (max === 0) {
    if (reverse) for (let i = 0; i < count; i++) scores[i] = MAX_NODE_SCORE;
    return;
  }
  for (let i = 0; i < count; i++) {
    let s = Math.trunc((MAX_NODE_SCORE * scores[i]) / max);
    if (reverse) s = MAX_NODE_SCORE - s;
    scores[i] = s;
  }
}
