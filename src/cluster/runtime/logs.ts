/**
 * Plausible container logs: what `kubectl logs` shows for a simulated container.
 *
 * Servers print what the real image prints when it starts (nginx's entrypoint and notices,
 * redis's banner, postgres's "ready to accept connections"...), an access-log line per HTTP
 * request in the image's own format (nginx's `main` format, Apache's common format), and their
 * shutdown lines on SIGTERM. Scripts print their `echo` output, with `date` rendered as busybox
 * prints it. Everything is derived from the clock and a seed: the same run gives the same logs.
 *
 * A container instance's log (`InstanceLog`) is kept lazily: the plan's timed lines and its
 * endless `while true` loop are materialised only when read, up to the moment of reading (or the
 * moment the container ended), so a loop that prints every second costs nothing until someone
 * asks. Lines appended while running (requests, crash and shutdown lines) are kept up to a cap,
 * oldest dropped first, as the kubelet's log rotation would.
 */
import { _pick } from "./_hash.js";
import { DATE_MARK } from "./_shell.js";
import type { PlanStep, ServerSpec } from "./workload.js";

/** One log line. */
export interface LogLine {
  /** Clock time (ms) the line was written. */
  readonly time: number;
  readonly stream: "stdout" | "stderr";
  readonly text: string;
}

/** Context for rendering server lines. */
export interface LogContext {
  /** Seed for worker pids and similar details (e.g. the container ID). */
  readonly seed: string;
  /** The pod's IP (servers print it). */
  readonly podIP: string;
  /** The pod's name (its hostname). */
  readonly hostname: string;
  /** CPUs of the node: nginx starts one worker per CPU. */
  readonly cpus?: number;
}

/** An HTTP request as a server logs it. */
export interface HttpRequestLog {
  readonly time: number;
  readonly clientIP: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly userAgent: string;
  /** The request's Host header (nginx prints it in its error log). */
  readonly host?: string;
  /** The worker that served it (nginx's error log names it); see `serverWorkerPid`. */
  readonly workerPid?: number;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const p2 = (n: number) => String(n).padStart(2, "0");
const p3 = (n: number) => String(n).padStart(3, "0");

function parts(ms: number) {
  const d = new Date(ms);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth(),
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
    wd: d.getUTCDay(),
  };
}

/** `date` output of busybox and coreutils in the C locale: `Mon Jan  1 00:00:05 UTC 2024`. */
export function formatDate(ms: number): string {
  const t = parts(ms);
  return `${DAYS[t.wd]} ${MONTHS[t.mo]} ${String(t.d).padStart(2, " ")} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)} UTC ${t.y}`;
}

/** RFC 3339 with nanoseconds, as `kubectl logs --timestamps` prints (`2024-01-01T00:00:05.123000000Z`). */
export function formatLogTimestamp(ms: number): string {
  const t = parts(ms);
  return `${t.y}-${p2(t.mo + 1)}-${p2(t.d)}T${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}.${p3(t.ms)}000000Z`;
}

const nginxTime = (ms: number) => {
  const t = parts(ms);
  return `${t.y}/${p2(t.mo + 1)}/${p2(t.d)} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}`;
};
const clfTime = (ms: number) => {
  const t = parts(ms);
  return `${p2(t.d)}/${MONTHS[t.mo]}/${t.y}:${p2(t.h)}:${p2(t.mi)}:${p2(t.s)} +0000`;
};
const redisTime = (ms: number) => {
  const t = parts(ms);
  return `${p2(t.d)} ${MONTHS[t.mo]} ${t.y} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}.${p3(t.ms)}`;
};
const pgTime = (ms: number) => {
  const t = parts(ms);
  return `${t.y}-${p2(t.mo + 1)}-${p2(t.d)} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}.${p3(t.ms)} UTC`;
};
const isoMicro = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
const apacheTime = (ms: number) => {
  const t = parts(ms);
  return `${DAYS[t.wd]} ${MONTHS[t.mo]} ${p2(t.d)} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}.${p3(t.ms)}000 ${t.y}`;
};

/** Renders a plan line: `{{date}}` becomes the `date` output at `time`. */
export function renderStepText(text: string, time: number): string {
  return text.includes(DATE_MARK) ? text.split(DATE_MARK).join(formatDate(time)) : text;
}

/** The pid of a server's first worker process (nginx logs `pid#tid` of the worker). */
export function serverWorkerPid(ctx: LogContext): number {
  return workerPids(ctx)[0];
}

function workerPids(ctx: LogContext): number[] {
  const first = _pick(`pid:${ctx.seed}`, 20, 40);
  return Array.from({ length: Math.max(1, ctx.cpus ?? 4) }, (_, i) => first + i);
}

const line = (time: number, text: string, stream: "stdout" | "stderr" = "stdout"): LogLine => ({ time, text, stream });

/**
 * What a server prints from the moment it starts (`startedAt`, clock ms) until it is ready
 * (`readyAt`): the image's banner, then its "ready" line.
 */
export function serverStartupLines(server: ServerSpec, startedAt: number, readyAt: number, ctx: LogContext): LogLine[] {
  const t0 = startedAt;
  switch (server.logs) {
    case "nginx": {
      const out: LogLine[] = [];
      if (server.entrypoint !== false) {
        for (const text of [
          "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
          "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
          "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
          "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
          "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
          "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
          "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
          "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
          "/docker-entrypoint.sh: Configuration complete; ready for start up",
        ])
          out.push(line(t0, text));
      }
      const ts = nginxTime(readyAt);
      out.push(line(readyAt, `${ts} [notice] 1#1: using the "epoll" event method`, "stderr"));
      out.push(line(readyAt, `${ts} [notice] 1#1: nginx/${server.version}`, "stderr"));
      out.push(line(readyAt, `${ts} [notice] 1#1: built by gcc 12.2.0 (Debian 12.2.0-14) `, "stderr"));
      out.push(line(readyAt, `${ts} [notice] 1#1: OS: Linux 6.8.0-1017-azure`, "stderr"));
      out.push(line(readyAt, `${ts} [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576`, "stderr"));
      out.push(line(readyAt, `${ts} [notice] 1#1: start worker processes`, "stderr"));
      for (const pid of workerPids(ctx)) out.push(line(readyAt, `${ts} [notice] 1#1: start worker process ${pid}`, "stderr"));
      return out;
    }
    case "httpd": {
      const msg = `AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using ${ctx.podIP || "127.0.0.1"}. Set the 'ServerName' directive globally to suppress this message`;
      return [
        line(t0, msg, "stderr"),
        line(t0, msg, "stderr"),
        line(readyAt, `[${apacheTime(readyAt)}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/${server.version} (Unix) configured -- resuming normal operations`, "stderr"),
        line(readyAt, `[${apacheTime(readyAt)}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'`, "stderr"),
      ];
    }
    case "redis": {
      const c = (ms: number, mark: string, text: string) => line(ms, `1:C ${redisTime(ms)} ${mark} ${text}`);
      const m = (ms: number, mark: string, text: string) => line(ms, `1:M ${redisTime(ms)} ${mark} ${text}`);
      return [
        c(t0, "#", "WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition. Being disabled, it can also cause failures without low memory condition, see https://github.com/jemalloc/jemalloc/issues/1328. To fix this issue add 'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command 'sysctl vm.overcommit_memory=1' for this to take effect."),
        c(t0, "*", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"),
        c(t0, "*", `Redis version=${server.version}, bits=64, commit=00000000, modified=0, pid=1, just started`),
        c(t0, "#", "Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf"),
        m(t0, "*", "monotonic clock: POSIX clock_gettime"),
        m(t0, "*", "Running mode=standalone, port=6379."),
        m(readyAt, "*", "Server initialized"),
        m(readyAt, "*", "Ready to accept connections tcp"),
      ];
    }
    case "postgres": {
      return [
        line(t0, 'The files belonging to this database system will be owned by user "postgres".'),
        line(t0, "This user must also own the server process."),
        line(t0, ""),
        line(t0, 'The database cluster will be initialized with locale "en_US.utf8".'),
        line(t0, "Success. You can now start the database server using:"),
        line(t0, ""),
        line(t0, "PostgreSQL init process complete; ready for start up."),
        line(t0, ""),
        line(readyAt, `${pgTime(readyAt)} [1] LOG:  starting PostgreSQL ${server.version} (Debian ${server.version}-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit`, "stderr"),
        line(readyAt, `${pgTime(readyAt)} [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432`, "stderr"),
        line(readyAt, `${pgTime(readyAt)} [1] LOG:  listening on IPv6 address "::", port 5432`, "stderr"),
        line(readyAt, `${pgTime(readyAt)} [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"`, "stderr"),
        line(readyAt, `${pgTime(readyAt)} [${_pick(`pgpid:${ctx.seed}`, 60, 90)}] LOG:  database system was shut down at ${pgTime(t0).slice(0, 19)} UTC`, "stderr"),
        line(readyAt, `${pgTime(readyAt)} [1] LOG:  database system is ready to accept connections`, "stderr"),
      ];
    }
    case "mysql": {
      const stamp = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}+00:00`;
      return [
        line(t0, `${stamp(t0)} [Note] [Entrypoint]: Entrypoint script for MySQL Server ${server.version}-1.el9 started.`),
        line(t0, `${stamp(t0)} [Note] [Entrypoint]: Switching to dedicated user 'mysql'`),
        line(t0, `${stamp(t0)} [Note] [Entrypoint]: Entrypoint script for MySQL Server ${server.version}-1.el9 started.`),
        line(t0, `${stamp(t0)} [Note] [Entrypoint]: Initializing database files`),
        line(readyAt, `${isoMicro(readyAt)} 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '${server.version}'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.`, "stderr"),
      ];
    }
    case "mariadb": {
      const t = parts(readyAt);
      const stamp = `${t.y}-${p2(t.mo + 1)}-${p2(t.d)} ${String(t.h).padStart(2, " ")}:${p2(t.mi)}:${p2(t.s)}`;
      return [
        line(t0, `${new Date(t0).toISOString().slice(0, 19).replace("T", " ")}+00:00 [Note] [Entrypoint]: Entrypoint script for MariaDB Server 1:${server.version}+maria~ubu2404 started.`),
        line(readyAt, `${stamp} 0 [Note] mariadbd: ready for connections.`, "stderr"),
        line(readyAt, `Version: '${server.version}-MariaDB-ubu2404'  socket: '/run/mysqld/mysqld.sock'  port: 3306  mariadb.org binary distribution`, "stderr"),
      ];
    }
    case "mongo": {
      const j = (ms: number, c: string, id: number, ctxName: string, msg: string, attr: string) =>
        line(ms, `{"t":{"$date":"${new Date(ms).toISOString().replace("Z", "+00:00")}"},"s":"I",  "c":"${c}",  "id":${id},   "ctx":"${ctxName}","msg":"${msg}"${attr ? `,"attr":${attr}` : ""}}`);
      return [
        j(t0, "CONTROL", 23285, "main", "Automatically disabling TLS 1.0, to force-enable TLS 1.0 specify --sslDisabledProtocols 'none'", ""),
        j(t0, "CONTROL", 4615611, "initandlisten", "MongoDB starting", `{"pid":1,"port":27017,"dbPath":"/data/db","architecture":"64-bit","host":"${ctx.hostname}"}`),
        j(readyAt, "NETWORK", 23015, "listener", "Listening on", '{"address":"0.0.0.0"}'),
        j(readyAt, "NETWORK", 23016, "listener", "Waiting for connections", '{"port":27017,"ssl":"off"}'),
      ];
    }
    case "generic": {
      const ports = server.ports?.length ? server.ports : [8080];
      return [
        line(t0, `${formatLogTimestamp(t0).slice(0, 19)}Z INFO starting ${server.program === "generic" ? ctx.hostname : server.program} version ${server.version}`),
        ...ports.map((p) => line(readyAt, `${formatLogTimestamp(readyAt).slice(0, 19)}Z INFO listening on :${p}`)),
      ];
    }
    default:
      return [];
  }
}

/** What a server prints when it receives SIGTERM (or its STOPSIGNAL) at `time`. */
export function serverShutdownLines(server: ServerSpec, time: number, ctx: LogContext): LogLine[] {
  switch (server.logs) {
    case "nginx": {
      const ts = nginxTime(time);
      const pids = workerPids(ctx);
      return [
        line(time, `${ts} [notice] 1#1: signal 3 (SIGQUIT) received, shutting down`, "stderr"),
        ...pids.flatMap((pid) => [line(time, `${ts} [notice] ${pid}#${pid}: gracefully shutting down`, "stderr"), line(time, `${ts} [notice] ${pid}#${pid}: exiting`, "stderr"), line(time, `${ts} [notice] ${pid}#${pid}: exit`, "stderr")]),
        line(time, `${ts} [notice] 1#1: exit`, "stderr"),
      ];
    }
    case "redis":
      return [
        line(time, `1:signal-handler (${Math.floor(time / 1000)}) Received SIGTERM scheduling shutdown...`),
        line(time, `1:M ${redisTime(time)} * User requested shutdown...`),
        line(time, `1:M ${redisTime(time)} * Saving the final RDB snapshot before exiting.`),
        line(time, `1:M ${redisTime(time)} * DB saved on disk`),
        line(time, `1:M ${redisTime(time)} # Redis is now ready to exit, bye bye...`),
      ];
    case "postgres":
      return [
        line(time, `${pgTime(time)} [1] LOG:  received fast shutdown request`, "stderr"),
        line(time, `${pgTime(time)} [1] LOG:  aborting any active transactions`, "stderr"),
        line(time, `${pgTime(time)} [1] LOG:  database system is shut down`, "stderr"),
      ];
    case "httpd":
      return [line(time, `[${apacheTime(time)}] [mpm_event:notice] [pid 1:tid 1] AH00492: caught SIGWINCH, shutting down gracefully`, "stderr")];
    case "mysql":
      return [line(time, `${isoMicro(time)} 0 [System] [MY-013172] [Server] Received SHUTDOWN from user <via user signal>. Shutting down mysqld (Version: ${server.version}).`, "stderr")];
    case "generic":
      return [line(time, `${formatLogTimestamp(time).slice(0, 19)}Z INFO received terminated, shutting down`)];
    default:
      return [];
  }
}

/** What the pause program prints on SIGTERM. */
export const PAUSE_SHUTDOWN = "Shutting down, got signal: Terminated";

/** Body size nginx sends for its default pages. */
const NGINX_BYTES: Record<number, number> = { 200: 615, 404: 153, 500: 177, 503: 197 };

/**
 * The access-log line(s) a server writes for one request, in the image's format:
 * nginx `main` (`10.244.0.1 - - [01/Jan/2024:00:00:05 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"`,
 * plus an error-log line for a missing file), Apache common format, or a generic line.
 * Servers that do not log requests (redis, databases) return nothing.
 */
export function accessLogLines(server: ServerSpec, req: HttpRequestLog): LogLine[] {
  switch (server.logs) {
    case "nginx": {
      const out = [line(req.time, `${req.clientIP} - - [${clfTime(req.time)}] "${req.method} ${req.path} HTTP/1.1" ${req.status} ${NGINX_BYTES[req.status] ?? 0} "-" "${req.userAgent}" "-"`)];
      if (req.status === 404) {
        out.unshift(
          line(
            req.time,
            `${nginxTime(req.time)} [error] ${req.workerPid ?? 29}#${req.workerPid ?? 29}: *1 open() "/usr/share/nginx/html${req.path}" failed (2: No such file or directory), client: ${req.clientIP}, server: localhost, request: "${req.method} ${req.path} HTTP/1.1", host: "${req.host ?? req.clientIP}"`,
            "stderr",
          ),
        );
      }
      return out;
    }
    case "httpd":
      return [line(req.time, `${req.clientIP} - - [${clfTime(req.time)}] "${req.method} ${req.path} HTTP/1.1" ${req.status} ${req.status === 200 ? 45 : 196}`)];
    case "generic":
      return req.userAgent.startsWith("kube-probe/")
        ? []
        : [line(req.time, `${formatLogTimestamp(req.time).slice(0, 19)}Z INFO ${req.clientIP} "${req.method} ${req.path}" ${req.status}`)];
    default:
      return [];
  }
}

/** Options of a log read (as `kubectl logs` sends them). */
export interface LogReadOptions {
  /** Only the last N lines (`--tail`). */
  readonly tailLines?: number;
  /** Only lines at or after this clock time (`--since`, `--since-time`). */
  readonly sinceMs?: number;
  /** Prefix each line with its RFC 3339 timestamp (`--timestamps`). */
  readonly timestamps?: boolean;
}

/** Lines kept per container instance besides the plan's own (older ones are dropped). */
export const MAX_APPENDED_LINES = 5000;

/** The log of one container instance (one run between a start and an exit). */
export class InstanceLog {
  private readonly appended: LogLine[] = [];
  private planSteps: { start: number; steps: readonly PlanStep[] } | undefined;
  private loop: { start: number; periodMs: number; steps: readonly PlanStep[] } | undefined;
  private endedAt: number | undefined;

  /** @param startedAt clock time the instance started. */
  constructor(readonly startedAt: number) {}

  /** Sets the plan's timed lines (relative to `startedAt`) and its repeating loop. */
  setPlan(steps: readonly PlanStep[], loop?: { startMs: number; periodMs: number; steps: readonly PlanStep[] }): void {
    this.planSteps = { start: this.startedAt, steps };
    this.loop = loop ? { start: this.startedAt + loop.startMs, periodMs: loop.periodMs, steps: loop.steps } : undefined;
  }

  /** Appends lines written while running (requests, crash and shutdown lines). */
  append(...lines: LogLine[]): void {
    if (this.endedAt !== undefined) lines = lines.filter((l) => l.time <= this.endedAt!);
    this.appended.push(...lines);
    if (this.appended.length > MAX_APPENDED_LINES) this.appended.splice(0, this.appended.length - MAX_APPENDED_LINES);
  }

  /** Marks the instance as ended: nothing after `time` is part of its log. */
  end(time: number): void {
    if (this.endedAt === undefined) this.endedAt = time;
  }

  /** The lines written up to `now` (and before the end), oldest first. */
  lines(now: number, options: LogReadOptions = {}): LogLine[] {
    const until = Math.min(now, this.endedAt ?? Number.POSITIVE_INFINITY);
    const since = options.sinceMs ?? Number.NEGATIVE_INFINITY;
    const out: LogLine[] = [];
    for (const s of this.planSteps?.steps ?? []) {
      const time = this.startedAt + s.at;
      if ("log" in s && time <= until && time >= since) out.push({ time, stream: s.stream, text: renderStepText(s.log, time) });
    }
    if (this.loop && this.loop.steps.some((s) => "log" in s)) {
      const tail = options.tailLines ?? Number.POSITIVE_INFINITY;
      const first = Math.max(0, Math.ceil((Math.max(since, this.loop.start) - this.loop.start - this.loop.periodMs) / this.loop.periodMs));
      const last = Math.floor((until - this.loop.start) / this.loop.periodMs);
      // Never materialise more iterations than a tail read needs.
      const from = Number.isFinite(tail) ? Math.max(first, last - tail) : Math.max(first, last - 100_000);
      for (let k = from; k <= last; k++) {
        for (const s of this.loop.steps) {
          const time = this.loop.start + k * this.loop.periodMs + s.at;
          if ("log" in s && time <= until && time >= since) out.push({ time, stream: s.stream, text: renderStepText(s.log, time) });
        }
      }
    }
    for (const l of this.appended) if (l.time <= until && l.time >= since) out.push(l);
    out.sort((a, b) => a.time - b.time);
    const tailed = options.tailLines !== undefined ? out.slice(Math.max(0, out.length - options.tailLines)) : out;
    return tailed;
  }

  /** The log as `kubectl logs` prints it. */
  text(now: number, options: LogReadOptions = {}): string {
    const lines = this.lines(now, options);
    return lines.map((l) => (options.timestamps ? `${formatLogTimestamp(l.time)} ${l.text}` : l.text)).join("\n") + (lines.length ? "\n" : "");
  }
}
