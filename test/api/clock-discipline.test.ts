import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(new URL("../../src", import.meta.url).pathname);

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") || e.name.endsWith(".tsx") ? [path.join(dir, e.name)] : []));
}

describe("time discipline (DESIGN.md, Time)", () => {
  it("no module but the clock reads the system time or sets timers: everything runs on an injected Clock", () => {
    const offenders: string[] = [];
    for (const file of files(SRC)) {
      if (file.endsWith(path.join("api", "clock.ts"))) continue;
      const lines = fs.readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, "");
        if (/\bDate\.now\(|new Date\(\)|(?<![\w.])set(Timeout|Interval)\(|globalThis\.set(Timeout|Interval)|performance\.now\(/.test(code)) {
          offenders.push(`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(offenders).toEqual([]);
  });
});
