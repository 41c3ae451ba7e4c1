import { describe, expect, it } from "vitest";
import { InstanceLog, accessLogLines, formatDate, formatLogTimestamp, serverShutdownLines, serverStartupLines } from "../../src/cluster/runtime/logs.js";
import type { ServerSpec } from "../../src/cluster/runtime/workload.js";

const T = Date.UTC(2024, 0, 1, 0, 0, 0);
const ctx = { seed: "containerd://abc", podIP: "10.244.1.7", hostname: "web-abc", cpus: 2 };
const server = (logs: ServerSpec["logs"], version: string, extra: Partial<ServerSpec> = {}): ServerSpec => ({ program: logs, logs, version, startAtMs: 0, ...extra });

describe("time formats", () => {
  it("date prints like busybox in the C locale", () => {
    expect(formatDate(T + 5000)).toBe("Mon Jan  1 00:00:05 UTC 2024");
    expect(formatDate(Date.UTC(2024, 1, 29, 13, 4, 5))).toBe("Thu Feb 29 13:04:05 UTC 2024");
  });
  it("--timestamps prints RFC 3339 with nanoseconds", () => {
    expect(formatLogTimestamp(T + 1234)).toBe("2024-01-01T00:00:01.234000000Z");
  });
});

describe("server logs", () => {
  it("nginx: entrypoint lines, then notices when ready, one worker per CPU, deterministic", () => {
    const lines = serverStartupLines(server("nginx", "1.27.3", { entrypoint: true }), T, T + 1000, ctx);
    expect(lines[0]).toEqual({ time: T, stream: "stdout", text: "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration" });
    expect(lines.filter((l) => l.text.includes("start worker process ")).length).toBe(2);
    expect(lines.find((l) => l.text.includes("1#1: nginx/"))?.text).toBe("2024/01/01 00:00:01 [notice] 1#1: nginx/1.27.3");
    expect(serverStartupLines(server("nginx", "1.27.3", { entrypoint: true }), T, T + 1000, ctx)).toEqual(lines);
    expect(serverStartupLines(server("nginx", "1.27.3", { entrypoint: false }), T, T + 1000, ctx)[0].text).toContain("[notice] 1#1: using the \"epoll\" event method");
  });

  it("redis prints its banner and 'Ready to accept connections'", () => {
    const lines = serverStartupLines(server("redis", "7.4.1"), T, T + 1000, ctx).map((l) => l.text);
    expect(lines).toContain("1:C 01 Jan 2024 00:00:00.000 * Redis version=7.4.1, bits=64, commit=00000000, modified=0, pid=1, just started");
    expect(lines.at(-1)).toBe("1:M 01 Jan 2024 00:00:01.000 * Ready to accept connections tcp");
  });

  it("postgres ends with 'database system is ready to accept connections'", () => {
    const lines = serverStartupLines(server("postgres", "17.2"), T, T + 1000, ctx).map((l) => l.text);
    expect(lines.at(-1)).toBe("2024-01-01 00:00:01.000 UTC [1] LOG:  database system is ready to accept connections");
  });

  it("nginx access log uses the image's main format; httpd the common format", () => {
    const req = { time: T + 5000, clientIP: "10.244.0.1", method: "GET", path: "/", status: 200, userAgent: "kube-probe/1.32" };
    expect(accessLogLines(server("nginx", "1.27.3"), req).map((l) => l.text)).toEqual(['10.244.0.1 - - [01/Jan/2024:00:00:05 +0000] "GET / HTTP/1.1" 200 615 "-" "kube-probe/1.32" "-"']);
    expect(accessLogLines(server("httpd", "2.4.62"), req).map((l) => l.text)).toEqual(['10.244.0.1 - - [01/Jan/2024:00:00:05 +0000] "GET / HTTP/1.1" 200 45']);
    expect(accessLogLines(server("redis", "7.4.1"), req)).toEqual([]);
    // Generic programs do not log the kubelet's probes.
    expect(accessLogLines(server("generic", "1"), req)).toEqual([]);
  });

  it("shutdown lines on the stop signal", () => {
    expect(serverShutdownLines(server("redis", "7.4.1"), T, ctx).at(-1)?.text).toBe("1:M 01 Jan 2024 00:00:00.000 # Redis is now ready to exit, bye bye...");
    expect(serverShutdownLines(server("nginx", "1.27.3"), T, ctx)[0].text).toBe("2024/01/01 00:00:00 [notice] 1#1: signal 3 (SIGQUIT) received, shutting down");
  });
});

describe("an instance's log", () => {
  it("materialises plan lines and loops only up to the moment read, and stops at the end", () => {
    const log = new InstanceLog(T);
    log.setPlan([{ at: 0, log: "start", stream: "stdout" }], { startMs: 1000, periodMs: 1000, steps: [{ at: 0, log: "{{date}} tick", stream: "stdout" }] });
    expect(log.lines(T + 2500).map((l) => l.text)).toEqual(["start", "Mon Jan  1 00:00:01 UTC 2024 tick", "Mon Jan  1 00:00:02 UTC 2024 tick"]);
    log.end(T + 3000);
    expect(log.lines(T + 100_000)).toHaveLength(4);
    expect(log.lines(T + 100_000, { tailLines: 2 }).map((l) => l.text)).toEqual(["Mon Jan  1 00:00:02 UTC 2024 tick", "Mon Jan  1 00:00:03 UTC 2024 tick"]);
    expect(log.lines(T + 100_000, { sinceMs: T + 2000 })).toHaveLength(2);
  });

  it("reads a tail of a long-running loop without materialising all of it", () => {
    const log = new InstanceLog(T);
    log.setPlan([], { startMs: 0, periodMs: 1000, steps: [{ at: 0, log: "x", stream: "stdout" }] });
    const day = 24 * 3600 * 1000;
    expect(log.lines(T + 365 * day, { tailLines: 3 })).toHaveLength(3);
  });
});
