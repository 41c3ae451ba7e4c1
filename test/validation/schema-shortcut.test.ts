/**
 * The schema check's shortcut (a plain validator run plus the shapes learnt from earlier
 * instrumented runs) must give exactly what the instrumented run gives, for clean objects and
 * for objects with unknown fields, wrong types and new optional parts, in any order.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { tryKindFor, type KindInfo } from "../../src/api/kinds.js";
import { checkSchema, checkSchemaWatched, type SchemaResult } from "../../src/api/_validation-schema.js";
import { admit } from "../../src/api/validation.js";
import type { KubeObject } from "../../src/api/types.js";
import { CORPUS_DIR } from "../_corpus.js";

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ya?ml|json)$/.test(entry)) out.push(p);
  }
  return out;
}

/** Corpus objects of served kinds (documents that do not parse are skipped: other tests cover them). */
function corpusObjects(): { info: KindInfo; obj: any }[] {
  const out: { info: KindInfo; obj: any }[] = [];
  for (const file of walk(CORPUS_DIR)) {
    let docs;
    try {
      docs = parseAllDocuments(readFileSync(file, "utf8"));
    } catch {
      continue;
    }
    for (const doc of docs) {
      let obj: any;
      try {
        obj = doc.toJS({ mapAsMap: false });
      } catch {
        continue;
      }
      if (typeof obj?.apiVersion !== "string" || typeof obj?.kind !== "string") continue;
      const info = tryKindFor(obj.apiVersion, obj.kind);
      if (info) out.push({ info, obj });
    }
  }
  return out;
}

/** Deterministic random numbers (a test must give the same cases every run). */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

function containers(value: unknown, out: object[] = []): object[] {
  if (value !== null && typeof value === "object") {
    out.push(value);
    for (const v of Object.values(value)) containers(v, out);
  }
  return out;
}

/** A copy with one change at a random place: an unknown key, a wrong type, an extra element. */
function mutate(obj: any, random: () => number): any {
  const copy = structuredClone(obj);
  const places = containers(copy).slice(1);
  if (places.length === 0) return copy;
  const place = places[Math.floor(random() * places.length)] as any;
  const values = [1, "s", { y: 2 }, [1], true, null, 2.5];
  const value = values[Math.floor(random() * values.length)];
  if (Array.isArray(place)) place.push(random() < 0.5 ? { bogus: 1 } : "text");
  else if (random() < 0.6) place[["bogusField", "replica", "image", "name", "spec", "x"][Math.floor(random() * 6)]] = value;
  else {
    const keys = Object.keys(place);
    if (keys.length > 0) place[keys[Math.floor(random() * keys.length)]] = value;
  }
  return copy;
}

function summary(result: SchemaResult): unknown {
  return { issues: result.issues, unknown: result.unknownFields.map((u) => u.path) };
}

describe("schema check shortcut", () => {
  it("agrees with the instrumented run over the corpus and mutated copies, interleaved", () => {
    const objects = corpusObjects();
    expect(objects.length).toBeGreaterThan(100);
    const random = seeded(0x5c4e);
    let unknown = 0;
    let issues = 0;
    for (let round = 0; round < 6; round++) {
      for (const { info, obj } of objects) {
        const candidate = random() < 0.5 ? obj : mutate(obj, random);
        const shortcut = checkSchema(structuredClone(candidate), info);
        const watched = checkSchemaWatched(structuredClone(candidate), info);
        expect(summary(shortcut), `${info.kind} ${obj.metadata?.name}`).toEqual(summary(watched));
        if (watched.unknownFields.length > 0) unknown++;
        if (watched.issues.length > 0) issues++;
      }
    }
    // The mutations reached both kinds of problems many times.
    expect(unknown).toBeGreaterThan(100);
    expect(issues).toBeGreaterThan(100);
  });

  it("still refuses an unknown field once many clean objects of the kind were admitted", () => {
    const deployment = (extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}): KubeObject => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default", labels: { app: "web", "any-label": "x" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27", ...container }] } },
        ...extra,
      },
    });
    for (let i = 0; i < 20; i++) admit(deployment());
    expect(() => admit(deployment({ replica: 3 }))).toThrow(/unknown field "spec.replica"/);
    expect(() => admit(deployment({}, { imagePullPolicyy: "Always" }))).toThrow(/unknown field "spec.template.spec.containers\[0\].imagePullPolicyy"/);
    expect(() => admit(deployment({ replicas: "three" }))).toThrow(/cannot unmarshal string/);
    // Map keys are free: a new label is no unknown field.
    expect(() => admit({ ...deployment(), metadata: { name: "web", namespace: "default", labels: { brand: "new" } } })).not.toThrow();
  });
});
