/**
 * ControllerRef handling, as upstream `pkg/controller/controller_ref_manager.go`
 * (`BaseControllerRefManager.ClaimObject`, `ClaimPods`, `ClaimReplicaSets`,
 * `RecheckDeletionTimestamp`) and `metav1.NewControllerRef`.
 *
 * A controller claims the objects its selector matches: it keeps the ones it already controls,
 * adopts matching orphans (a patch adding its controllerRef) and releases the ones that stopped
 * matching (a patch removing it). It never adopts an object being deleted, never touches an
 * object another controller owns, and before its first adoption re-reads itself from the API
 * server to make sure it is not being deleted (an adoption by a dying controller would hand its
 * new child straight to the garbage collector).
 */
import type { Client } from "../../api/client.js";
import { isReason } from "../../api/errors.js";
import type { Selector } from "../../api/labels.js";
import type { KubeObject, OwnerReference } from "../../api/types.js";
import { controllerRefOf } from "./_owner-index.js";

/** `metav1.NewControllerRef`: an ownerReference with controller and blockOwnerDeletion set. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * `RecheckDeletionTimestamp`: reads the controller fresh and fails when it is gone, replaced (another
 * UID) or being deleted.
 */
export function recheckDeletionTimestamp(client: Client, controller: KubeObject): () => Promise<void> {
  return async () => {
    let fresh: KubeObject;
    const ns = controller.metadata.namespace;
    const name = controller.metadata.name ?? "";
    try {
      fresh = await client.get({ apiVersion: controller.apiVersion, kind: controller.kind, namespace: ns, name });
    } catch (err) {
      throw new Error(`can't recheck DeletionTimestamp: ${errorMessage(err)}`);
    }
    if (fresh.metadata.uid !== controller.metadata.uid) {
      throw new Error(
        `can't recheck DeletionTimestamp: original ${controller.kind} ${ns}/${name} is gone: got uid ${fresh.metadata.uid}, wanted ${controller.metadata.uid}`,
      );
    }
    if (fresh.metadata.deletionTimestamp) throw new Error(`${ns}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  };
}

/** The message of an error of any type. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Several errors as one (`utilerrors.NewAggregate`): one message alone, several as `[a, b]`. */
export function aggregate(errors: readonly unknown[]): Error | undefined {
  if (errors.length === 0) return undefined;
  if (errors.length === 1) return errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  return new Error(`[${errors.map(errorMessage).join(", ")}]`);
}

/** Claims objects of one kind for one controller. */
export class ControllerRefManager {
  private canAdoptResult: Promise<void> | undefined;

  /**
   * @param controller the controller object (as read from the cache)
   * @param controllerApiVersion, controllerKind written into adopted objects' controllerRef
   * @param selector the controller's compiled selector
   * @param canAdopt checked once, before the first adoption
   */
  constructor(
    private readonly client: Client,
    private readonly controller: KubeObject,
    private readonly controllerApiVersion: string,
    private readonly controllerKind: string,
    private readonly selector: Selector,
    private readonly canAdopt: () => Promise<void>,
  ) {}

  /**
   * Returns the objects this controller owns after adopting and releasing (`ClaimObject` for
   * each). Errors of single objects are collected and thrown together after every object was
   * tried, so the caller requeues.
   */
  async claim<T extends KubeObject>(objects: readonly T[], filter?: (obj: T) => boolean): Promise<T[]> {
    const claimed: T[] = [];
    const errors: unknown[] = [];
    const match = (obj: T) => this.selector.matches(obj.metadata.labels) && (!filter || filter(obj));
    for (const obj of objects) {
      try {
        if (await this.claimObject(obj, match)) claimed.push(obj);
      } catch (err) {
        errors.push(err);
      }
    }
    const err = aggregate(errors);
    if (err) throw err;
    return claimed;
  }

  private async claimObject<T extends KubeObject>(obj: T, match: (obj: T) => boolean): Promise<boolean> {
    const ref = controllerRefOf(obj);
    const controllerDeleting = Boolean(this.controller.metadata.deletionTimestamp);
    if (ref) {
      if (ref.uid !== this.controller.metadata.uid) return false; // owned by someone else
      if (match(obj)) return true; // ours, even while we are being deleted
      if (controllerDeleting) return false;
      try {
        await this.release(obj);
      } catch (err) {
        if (isReason(err, "NotFound")) return false;
        throw err;
      }
      return false;
    }
    // An orphan.
    if (controllerDeleting || !match(obj)) return false;
    if (obj.metadata.deletionTimestamp) return false;
    if (this.controller.metadata.namespace && this.controller.metadata.namespace !== obj.metadata.namespace) return false;
    try {
      await this.adopt(obj);
    } catch (err) {
      if (isReason(err, "NotFound")) return false;
      throw err;
    }
    return true;
  }

  private async adopt(obj: KubeObject): Promise<void> {
    this.canAdoptResult ??= this.canAdopt();
    try {
      await this.canAdoptResult;
    } catch (err) {
      throw new Error(`can't adopt ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name} (${obj.metadata.uid}): ${errorMessage(err)}`);
    }
    // ownerRefControllerPatch: the uid pins the patch to this incarnation of the object.
    const patch = {
      metadata: {
        uid: obj.metadata.uid,
        ownerReferences: [newControllerRef(this.controller, this.controllerApiVersion, this.controllerKind)],
      },
    };
    await this.client.patch(refOf(obj), "application/strategic-merge-patch+json", patch);
  }

  private async release(obj: KubeObject): Promise<void> {
    // GenerateDeleteOwnerRefStrategicMergeBytes: delete our ownerReference by its merge key.
    const patch = { metadata: { uid: obj.metadata.uid, ownerReferences: [{ $patch: "delete", uid: this.controller.metadata.uid }] } };
    try {
      await this.client.patch(refOf(obj), "application/strategic-merge-patch+json", patch);
    } catch (err) {
      // Gone, or no longer carrying our reference: nothing left to release.
      if (isReason(err, "NotFound") || isReason(err, "Invalid")) return;
      throw err;
    }
  }
}

function refOf(obj: KubeObject) {
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name ?? "" };
}
