/**
 * The event-handler plumbing the Deployment and ReplicaSet controllers share (`_handlers.ts`):
 * guarded handlers, controllerRef resolution, and the controllers selecting an orphan.
 */
import { describe, expect, it } from "vitest";
import type { Informer } from "../../src/api/informer.js";
import { labelSelectorAsSelector } from "../../src/api/labels.js";
import type { KubeObject } from "../../src/api/types.js";
import { cachedSelector, ControllerLookup, guardedHandlers } from "../../src/cluster/controllers/_handlers.js";

function rs(name: string, uid: string, selector: unknown, namespace = "default"): KubeObject {
  return { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name, namespace, uid }, spec: { selector } };
}

function pod(labels: Record<string, string> | undefined): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", ...(labels ? { labels } : {}) } };
}

/** The two reads ControllerLookup makes of an informer, over a fixed list. */
function informerOf(objects: KubeObject[]): Informer {
  return {
    get: (namespace: string | undefined, name: string) => objects.find((o) => o.metadata.namespace === namespace && o.metadata.name === name),
    list: (namespace?: string) => objects.filter((o) => namespace === undefined || namespace === "" || o.metadata.namespace === namespace),
  } as unknown as Informer;
}

const selectorOf = (o: KubeObject) => cachedSelector(o.spec, () => labelSelectorAsSelector(o.spec?.selector));

describe("guardedHandlers", () => {
  it("logs a throwing handler instead of throwing, and keeps absent handlers absent", () => {
    const logs: string[] = [];
    const h = guardedHandlers<KubeObject>(
      {
        add: () => {
          throw new Error("boom");
        },
      },
      () => false,
      (m) => logs.push(m),
    );
    expect(() => h.add!(pod({}))).not.toThrow();
    expect(logs).toEqual(["event handler failed: boom"]);
    expect(h.update).toBeUndefined();
    expect(h.delete).toBeUndefined();
  });

  it("does nothing once the controller stopped", () => {
    let stopped = false;
    const seen: string[] = [];
    const h = guardedHandlers<KubeObject>(
      { update: (_o, cur) => seen.push(`update ${cur.metadata.name}`), delete: (o) => seen.push(`delete ${o.metadata.name}`) },
      () => stopped,
      () => undefined,
    );
    h.update!(pod({}), pod({}));
    stopped = true;
    h.update!(pod({}), pod({}));
    h.delete!(pod({}));
    expect(seen).toEqual(["update p"]);
  });
});

describe("ControllerLookup", () => {
  const web = rs("web", "uid-web", { matchLabels: { app: "web" } });
  const all = rs("all", "uid-all", {});
  const invalid = rs("bad", "uid-bad", { matchExpressions: [{ key: "app", operator: "Near", values: ["x"] }] });
  const none = rs("none", "uid-none", undefined);
  const other = rs("web-elsewhere", "uid-other", { matchLabels: { app: "web" } }, "prod");
  const lookup = new ControllerLookup(informerOf([web, all, invalid, none, other]), "ReplicaSet", selectorOf);

  it("resolves a controllerRef only to the same kind and UID", () => {
    expect(lookup.resolve("default", { kind: "ReplicaSet", name: "web", uid: "uid-web" })).toBe(web);
    expect(lookup.resolve("default", { kind: "ReplicaSet", name: "web", uid: "uid-old" })).toBeUndefined();
    expect(lookup.resolve("default", { kind: "Deployment", name: "web", uid: "uid-web" })).toBeUndefined();
    expect(lookup.resolve("default", { kind: "ReplicaSet", name: "gone", uid: "uid-web" })).toBeUndefined();
  });

  it("finds the controllers of the namespace selecting an orphan; empty, missing and invalid selectors select nothing", () => {
    expect(lookup.selecting(pod({ app: "web" }))).toEqual([web]);
    expect(lookup.selecting(pod({ app: "db" }))).toEqual([]);
    // A pod without labels is selected by nobody, not even by `{}`.
    expect(lookup.selecting(pod(undefined))).toEqual([]);
    expect(lookup.selecting(pod({}))).toEqual([]);
  });

  it("compiles a selector once per spec object", () => {
    expect(selectorOf(web)).toBe(selectorOf(web));
    expect(selectorOf(web)).not.toBe(selectorOf(other));
    expect(() => selectorOf(invalid)).toThrow();
  });
});
