/**
 * The `spec.nodeName` index the node controllers add to the shared pod informer
 * (`getPodsAssignedToNode` upstream), so a node's pods are found without scanning every pod.
 */
import { objectKey, type Informer } from "../../api/informer.js";
import type { KubeObject } from "../../api/types.js";

/** Pods of each node, kept current by informer handlers. */
export class PodsByNode {
  private readonly byNode = new Map<string, Map<string, KubeObject>>();

  constructor(informer: Informer) {
    informer.addHandlers({
      add: (pod) => this.put(pod),
      update: (old, pod) => {
        this.drop(old);
        this.put(pod);
      },
      delete: (pod) => this.drop(pod),
    });
  }

  /** Pods bound to `nodeName`. */
  get(nodeName: string): KubeObject[] {
    return [...(this.byNode.get(nodeName)?.values() ?? [])];
  }

  private put(pod: KubeObject): void {
    const node = pod.spec?.nodeName;
    if (!node) return;
    let pods = this.byNode.get(node);
    if (!pods) this.byNode.set(node, (pods = new Map()));
    pods.set(objectKey(pod), pod);
  }

  private drop(pod: KubeObject): void {
    const node = pod.spec?.nodeName;
    if (!node) return;
    const pods = this.byNode.get(node);
    pods?.delete(objectKey(pod));
    if (pods && pods.size === 0) this.byNode.delete(node);
  }
}
