/**
 * A small, symbolic POSIX shell: enough of `sh -c "..."` to know what a container's script
 * prints, which files it creates and removes, how long it sleeps, and how it ends.
 *
 * Nothing is executed. The interpreter walks the script once, advancing a virtual time for
 * each `sleep`, recording `echo`/`printf`/`date` output as timed log lines, tracking files
 * (`touch`, `rm`, `echo x > f`) for exec probes such as `cat /tmp/healthy`, and stopping at
 * `exit N`, `sleep infinity`, an endless `while true` loop (kept as a repeating step list) or a
 * long-running program. Understood: `;` `&&` `||` `|` `&`, newlines, comments, single and double
 * quotes, `$VAR` `${VAR}` `${VAR:-x}` `$(cmd)` `$((arith))` `$RANDOM`, `while`/`until`/`for`/
 * `if`, `{ }` and `( )` groups, `set -e`, `trap`, `exec`, `wait`, redirections. Anything else
 * is an unknown program: instant success in the middle of a script, a long-running process at
 * its end (a script usually ends by starting the real application).
 */
import type { Behaviour, PlanStep } from "./workload.js";

/** Options of one script run. */
export interface ShellOptions {
  /** `sh`, `bash`, `ash`... (error messages differ). */
  readonly shell: string;
  /** Container environment. */
  readonly env: Record<string, string>;
  /** What `hostname` prints (the pod name). */
  readonly hostname: string;
  /** True when the container has stdin open (`stdin: true`): `cat` and `read` wait forever. */
  readonly stdin: boolean;
  /** Deterministic source for `$RANDOM`. */
  readonly random: () => number;
  /**
   * The behaviour of a program started in the foreground (`exec nginx ...`, or the last command
   * of the script), or undefined when the program is a short utility the shell handles itself.
   */
  readonly program: (argv: string[]) => Behaviour | undefined;
}

type Seg = { text: string; q: "none" | "single" | "double" };
type Token = { t: "word"; segs: Seg[] } | { t: "op"; op: string };
type Redirect = { op: string; target?: Token & { t: "word" } };
interface Simple {
  type: "simple";
  words: (Token & { t: "word" })[];
  redirects: Redirect[];
}
interface Loop {
  type: "while" | "until";
  cond: Item[];
  body: Item[];
}
interface For {
  type: "for";
  name: string;
  words?: (Token & { t: "word" })[];
  body: Item[];
}
interface If {
  type: "if";
  branches: { cond: Item[]; body: Item[] }[];
  otherwise?: Item[];
}
interface Group {
  type: "group";
  body: Item[];
}
interface Unknown {
  type: "unknown";
  text: string;
}
type Cmd = Simple | Loop | For | If | Group | Unknown;
interface Item {
  pipeline: Cmd[];
  /** Separator after this item: `;`, `&&`, `||`, `&` (newline counts as `;`). */
  sep: string;
}

class ShellSyntaxError extends Error {}

const OPERATORS = ["&&", "||", ";;", ">>", "2>&1", ">&2", "1>&2", "&>", "2>", ";", "|", "&", "(", ")", ">", "<", "\n"];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let segs: Seg[] = [];
  let cur = "";
  let started = false;
  const pushSeg = (q: Seg["q"]) => {
    if (cur !== "" || q !== "none") segs.push({ text: cur, q });
    cur = "";
  };
  const endWord = () => {
    pushSeg("none");
    if (started) tokens.push({ t: "word", segs });
    segs = [];
    started = false;
  };
  // Copies a `$( )`, `$(( ))`, `${ }` or backtick expansion verbatim, keeping nesting.
  const copyExpansion = (i: number): number => {
    const open = src[i + 1];
    if (src[i] === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new ShellSyntaxError("unterminated quoted string");
      cur += src.slice(i, end + 1);
      return end + 1;
    }
    const closeCh = open === "{" ? "}" : ")";
    let depth = 0;
    let j = i + 1;
    for (; j < src.length; j++) {
      const c = src[j];
      if (c === "'" ) {
        const e = src.indexOf("'", j + 1);
        if (e < 0) throw new ShellSyntaxError("unterminated quoted string");
        j = e;
        continue;
      }
      if (c === open) depth++;
      else if (c === closeCh) {
        depth--;
        if (depth === 0) break;
      }
    }
    if (j >= src.length) throw new ShellSyntaxError(`unexpected end of file (expecting "${closeCh}")`);
    cur += src.slice(i, j + 1);
    return j + 1;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === "\\" && i + 1 < src.length) {
      if (src[i + 1] === "$") cur += "\\$";
      else if (src[i + 1] !== "\n") cur += src[i + 1];
      started = true;
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError("unterminated quoted string");
      pushSeg("none");
      cur = src.slice(i + 1, end);
      pushSeg("single");
      started = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      pushSeg("none");
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === "\\" && j + 1 < src.length && '"\\$`'.includes(src[j + 1])) {
          cur += src[j + 1] === "$" ? "\\$" : src[j + 1];
          j += 2;
        } else if (src[j] === "$" && (src[j + 1] === "(" || src[j + 1] === "{")) {
          j = copyExpansion(j);
        } else {
          cur += src[j];
          j++;
        }
      }
      if (j >= src.length) throw new ShellSyntaxError("unterminated quoted string");
      pushSeg("double");
      started = true;
      i = j + 1;
      continue;
    }
    if ((c === "$" && (src[i + 1] === "(" || src[i + 1] === "{")) || c === "`") {
      i = copyExpansion(i);
      started = true;
      continue;
    }
    if (c === "#" && !started) {
      const end = src.indexOf("\n", i);
      i = end < 0 ? src.length : end;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      endWord();
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      // `2>`, `2>&1`, `1>&2` only when they start a token (not `a2>b` inside a word).
      if (/^\d/.test(op) && started) {
        cur += c;
        i++;
        continue;
      }
      endWord();
      tokens.push({ t: "op", op });
      i += op.length;
      continue;
    }
    cur += c;
    started = true;
    i++;
  }
  endWord();
  return tokens;
}

const isWord = (tok: Token | undefined): tok is Token & { t: "word" } => tok?.t === "word";
const plain = (tok: Token | undefined): string | undefined =>
  isWord(tok) && tok.segs.every((s) => s.q === "none") ? tok.segs.map((s) => s.text).join("") : undefined;

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): Item[] {
    const items = this.parseList(new Set());
    if (this.pos < this.tokens.length) {
      const tok = this.tokens[this.pos];
      throw new ShellSyntaxError(`unexpected "${tok.t === "op" ? tok.op : plain(tok) ?? "word"}"`);
    }
    return items;
  }

  private peekWord(): string | undefined {
    return plain(this.tokens[this.pos]);
  }

  private skipNewlines(): void {
    while (this.tokens[this.pos]?.t === "op" && (this.tokens[this.pos] as { op: string }).op === "\n") this.pos++;
  }

  private expectWord(word: string): void {
    this.skipSeparators();
    if (this.peekWord() !== word) throw new ShellSyntaxError(`unexpected end of file (expecting "${word}")`);
    this.pos++;
  }

  private skipSeparators(): void {
    while (this.tokens[this.pos]?.t === "op" && [";", "\n"].includes((this.tokens[this.pos] as { op: string }).op)) this.pos++;
  }

  parseList(stop: Set<string>): Item[] {
    const items: Item[] = [];
    for (;;) {
      this.skipSeparators();
      const tok = this.tokens[this.pos];
      if (!tok) break;
      const w = this.peekWord();
      if (w !== undefined && stop.has(w)) break;
      if (tok.t === "op" && (tok.op === ")" || tok.op === ";;")) break;
      const pipeline = this.parsePipeline(stop);
      let sep = ";";
      const next = this.tokens[this.pos];
      if (next?.t === "op" && ["&&", "||", "&", ";", "\n"].includes(next.op)) {
        sep = next.op === "\n" ? ";" : next.op;
        this.pos++;
        if (sep === "&&" || sep === "||") this.skipNewlines();
      }
      items.push({ pipeline, sep });
    }
    return items;
  }

  private parsePipeline(stop: Set<string>): Cmd[] {
    const cmds = [this.parseCommand(stop)];
    while (this.tokens[this.pos]?.t === "op" && (this.tokens[this.pos] as { op: string }).op === "|") {
      this.pos++;
      this.skipNewlines();
      cmds.push(this.parseCommand(stop));
    }
    return cmds;
  }

  private parseCommand(stop: Set<string>): Cmd {
    const w = this.peekWord();
    if (w === "while" || w === "until") {
      this.pos++;
      const cond = this.parseList(new Set(["do"]));
      this.expectWord("do");
      const body = this.parseList(new Set(["done"]));
      this.expectWord("done");
      return { type: w, cond, body };
    }
    if (w === "for") {
      this.pos++;
      const name = this.peekWord();
      if (!name) throw new ShellSyntaxError('unexpected end of file (expecting "do")');
      this.pos++;
      let words: (Token & { t: "word" })[] | undefined;
      if (this.peekWord() === "in") {
        this.pos++;
        words = [];
        while (isWord(this.tokens[this.pos])) words.push(this.tokens[this.pos++] as Token & { t: "word" });
      }
      this.expectWord("do");
      const body = this.parseList(new Set(["done"]));
      this.expectWord("done");
      return { type: "for", name, words, body };
    }
    if (w === "if") {
      this.pos++;
      const branches: If["branches"] = [];
      let otherwise: Item[] | undefined;
      const cond = this.parseList(new Set(["then"]));
      this.expectWord("then");
      branches.push({ cond, body: this.parseList(new Set(["elif", "else", "fi"])) });
      for (;;) {
        this.skipSeparators();
        const kw = this.peekWord();
        if (kw === "elif") {
          this.pos++;
          const c = this.parseList(new Set(["then"]));
          this.expectWord("then");
          branches.push({ cond: c, body: this.parseList(new Set(["elif", "else", "fi"])) });
        } else if (kw === "else") {
          this.pos++;
          otherwise = this.parseList(new Set(["fi"]));
        } else break;
      }
      this.expectWord("fi");
      return { type: "if", branches, otherwise };
    }
    if (w === "case") {
      // Not interpreted: skipped as one command that succeeds.
      const start = this.pos;
      while (this.pos < this.tokens.length && this.peekWord() !== "esac") this.pos++;
      if (this.pos >= this.tokens.length) throw new ShellSyntaxError('unexpected end of file (expecting "esac")');
      this.pos++;
      return { type: "unknown", text: `case (${this.pos - start} tokens)` };
    }
    if (w === "{") {
      this.pos++;
      const body = this.parseList(new Set(["}"]));
      this.expectWord("}");
      return { type: "group", body };
    }
    const tok = this.tokens[this.pos];
    if (tok?.t === "op" && tok.op === "(") {
      this.pos++;
      const body = this.parseList(new Set());
      const close = this.tokens[this.pos];
      if (!(close?.t === "op" && close.op === ")")) throw new ShellSyntaxError('unexpected end of file (expecting ")")');
      this.pos++;
      return { type: "group", body };
    }
    const words: (Token & { t: "word" })[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      const t = this.tokens[this.pos];
      if (!t) break;
      if (t.t === "word") {
        const pw = plain(t);
        if (words.length === 0 && pw !== undefined && stop.has(pw)) break;
        words.push(t);
        this.pos++;
        continue;
      }
      if ([">", ">>", "<", "2>", "&>"].includes(t.op)) {
        this.pos++;
        const target = this.tokens[this.pos];
        if (!isWord(target)) throw new ShellSyntaxError(`unexpected "${target?.t === "op" ? target.op : "end of file"}"`);
        this.pos++;
        redirects.push({ op: t.op, target });
        continue;
      }
      if (["2>&1", ">&2", "1>&2"].includes(t.op)) {
        this.pos++;
        redirects.push({ op: t.op });
        continue;
      }
      break;
    }
    if (words.length === 0 && redirects.length === 0) {
      const t = this.tokens[this.pos];
      throw new ShellSyntaxError(`unexpected "${t ? (t.t === "op" ? t.op : plain(t) ?? "word") : "end of file"}"`);
    }
    return { type: "simple", words, redirects };
  }
}

/** Outcome of running a (part of a) script. */
type Stop =
  | { kind: "exit"; code: number }
  | { kind: "forever"; loop?: { startMs: number; periodMs: number; steps: PlanStep[] }; program?: Behaviour; what: string };

interface State {
  t: number;
  vars: Record<string, string>;
  files: Map<string, string[] | null>;
  steps: PlanStep[];
  status: number;
  errexit: boolean;
  trapExit?: number;
  /** A background job runs until stopped. */
  bgForever: boolean;
  /** When the last finite background job ends. */
  bgEnd: number;
  stop?: Stop;
  /** Output of the current command goes here instead of the log (command substitution, pipes). */
  capture?: string[];
  budget: number;
  printed: number;
  slept: number;
}

/** Marker for `$(date)`/`date` output: the log renderer puts the clock time there. */
export const DATE_MARK = "{{date}}";

const MAX_STEPS = 20_000;

function fileKey(path: string): string {
  return path.replace(/\/+$/, "") || "/";
}

/** Parses a `sleep` argument (`10`, `1.5`, `2m`, `1h`, `1d`, `infinity`) to ms; undefined when invalid. */
export function parseSleep(arg: string): number | undefined {
  if (arg === "infinity" || arg === "inf") return Number.POSITIVE_INFINITY;
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] === "m" ? 60_000 : m[2] === "h" ? 3_600_000 : m[2] === "d" ? 86_400_000 : 1000;
  return Math.round(n * unit);
}

/** Evaluates `$(( ))` arithmetic: integers, + - * / % and parentheses, variables. */
function arith(expr: string, vars: Record<string, string>, random: () => number): number {
  const src = expr.replace(/\$?\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => {
    if (name === "RANDOM") return String(Math.floor(random() * 32768));
    const v = vars[name];
    return v !== undefined && /^-?\d+$/.test(v.trim()) ? v.trim() : "0";
  });
  let pos = 0;
  const tokens = src.match(/\d+|[-+*/%()]/g) ?? [];
  const peek = () => tokens[pos];
  const primary = (): number => {
    const tok = tokens[pos++];
    if (tok === "(") {
      const v = sum();
      pos++;
      return v;
    }
    if (tok === "-") return -primary();
    if (tok === "+") return primary();
    return Number(tok ?? 0);
  };
  const product = (): number => {
    let v = primary();
    while (peek() === "*" || peek() === "/" || peek() === "%") {
      const op = tokens[pos++];
      const r = primary();
      v = op === "*" ? v * r : r === 0 ? 0 : op === "/" ? Math.trunc(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === "+" || peek() === "-") {
      const op = tokens[pos++];
      const r = product();
      v = op === "+" ? v + r : v - r;
    }
    return v;
  };
  return sum();
}

/** Interprets `script` as `<shell> -c script` does. */
export function runScript(script: string, options: ShellOptions): Behaviour {
  let items: Item[];
  try {
    items = new Parser(tokenize(script)).parseAll();
  } catch (err) {
    if (!(err instanceof ShellSyntaxError)) throw err;
    const line = options.shell === "bash" ? `bash: -c: line 1: syntax error: ${err.message}` : `${options.shell}: syntax error: ${err.message}`;
    return {
      summary: `the script has a syntax error: ${options.shell} exits 2`,
      steps: [{ at: 0, log: line, stream: "stderr" }],
      exit: { afterMs: 0, code: 2 },
      sigterm: "ignore",
      memoryBytes: 1024 * 1024,
    };
  }
  const st: State = {
    t: 0,
    vars: { ...options.env, HOSTNAME: options.env.HOSTNAME ?? options.hostname },
    files: new Map(),
    steps: [],
    status: 0,
    errexit: false,
    bgForever: false,
    bgEnd: 0,
    budget: MAX_STEPS,
    printed: 0,
    slept: 0,
  };
  const interp = new Interpreter(options);
  interp.runList(items, st, true);
  // Background jobs may have added steps out of order.
  st.steps.sort((a, b) => a.at - b.at);
  const stop: Stop = st.stop ?? { kind: "exit", code: st.status };
  const sigterm: Behaviour["sigterm"] = st.trapExit !== undefined ? { code: st.trapExit, afterMs: 0 } : "ignore";
  if (stop.kind === "exit") {
    return {
      summary: `${describe(st)}exits ${stop.code}`,
      steps: st.steps,
      exit: { afterMs: st.t, code: stop.code },
      sigterm,
      memoryBytes: 1024 * 1024,
    };
  }
  if (stop.program) {
    const p = stop.program;
    // The program replaced or followed the script at time `st.t`: shift its timeline.
    return {
      ...p,
      summary: st.steps.length || st.t ? `${describe(st)}then ${p.summary}` : p.summary,
      steps: [...st.steps, ...p.steps.map((s) => ({ ...s, at: s.at + st.t }))],
      exit: p.exit ? { afterMs: p.exit.afterMs + st.t, code: p.exit.code } : undefined,
      server: p.server ? { ...p.server, startAtMs: p.server.startAtMs + st.t } : undefined,
      loop: p.loop ? { ...p.loop, startMs: p.loop.startMs + st.t } : undefined,
      sigterm: stop.what === "exec" ? p.sigterm : sigterm,
    };
  }
  return {
    summary: `${describe(st)}${stop.what}`,
    steps: st.steps,
    loop: stop.loop,
    sigterm,
    memoryBytes: 1024 * 1024,
  };
}

function describe(st: State): string {
  const parts: string[] = [];
  if (st.printed) parts.push(`prints ${st.printed} line${st.printed === 1 ? "" : "s"}`);
  if (st.slept) parts.push(`sleeps ${formatMs(st.slept)}`);
  return parts.length ? `${parts.join(", ")}, ` : "";
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const SHORT_UTILITIES = new Set([
  "cp", "mv", "mkdir", "chmod", "chown", "ln", "sed", "awk", "grep", "sort", "uniq", "head", "wc", "cut", "tr", "basename",
  "dirname", "id", "whoami", "uname", "df", "du", "ps", "sysctl", "nslookup", "dig", "host", "wget", "curl", "apk", "apt-get",
  "apt", "yum", "dnf", "pip", "pip3", "npm", "git", "tar", "gzip", "gunzip", "unzip", "find", "xargs", "stat", "chgrp", "sync",
  "md5sum", "sha256sum", "base64", "install", "readlink", "realpath", "mktemp", "nc", "telnet", "ip", "ifconfig", "netstat",
  "mount", "umount", "update-ca-certificates", "source", ".", "cd", "export", "unset", "set", "shift", "read", "ulimit", "umask",
  "alias", "type", "command", "which", "test", "[", "[[", "let", "local", "return", "break", "continue", "kill", "usermod",
  "useradd", "adduser", "groupadd", "addgroup", "getent", "tee", "seq", "expr", "printf", "echo", "true", "false", ":", "sleep",
  "exit", "date", "hostname", "env", "printenv", "touch", "rm", "cat", "ls", "trap", "exec", "wait", "yes", "tail", "ping",
]);

class Interpreter {
  constructor(private readonly o: ShellOptions) {}

  runList(items: Item[], st: State, top: boolean): void {
    let skip = false;
    for (let i = 0; i < items.length; i++) {
      if (st.stop) return;
      const item = items[i];
      const last = top && i === items.length - 1;
      if (!skip) {
        if (item.sep === "&") {
          this.runBackground(item.pipeline, st);
        } else {
          this.runPipeline(item.pipeline, st, last);
          if (st.stop) return;
          const prev = i > 0 ? items[i - 1].sep : ";";
          // `set -e`: a failing command ends the script, unless it is tested by && or ||.
          if (st.errexit && st.status !== 0 && item.sep === ";" && prev !== "&&" && prev !== "||") {
            st.stop = { kind: "exit", code: st.status };
            return;
          }
        }
      }
      // An AND-OR list: `a && b` runs b only when a succeeded, `a || b` only when it failed.
      if (item.sep === "&&") skip = st.status !== 0;
      else if (item.sep === "||") skip = st.status === 0;
      else skip = false;
    }
  }

  /** `cmd &`: runs alongside; its output and files join the timeline, the shell goes on at once. */
  private runBackground(pipeline: Cmd[], st: State): void {
    const bg = this.fork(st);
    const before = bg.steps.length;
    this.runPipeline(pipeline, bg, true);
    for (const step of bg.steps.slice(before)) st.steps.push(step);
    st.files = bg.files;
    if (bg.stop?.kind === "forever") st.bgForever = true;
    else st.bgEnd = Math.max(st.bgEnd, bg.t);
    st.status = 0;
  }

  private fork(st: State): State {
    return { ...st, vars: { ...st.vars }, files: new Map(st.files), steps: [...st.steps], stop: undefined };
  }

  private runPipeline(cmds: Cmd[], st: State, last: boolean): void {
    if (cmds.length === 1) {
      this.runCommand(cmds[0], st, last);
      return;
    }
    // Only the last command's output reaches the log; earlier ones feed the pipe.
    for (let i = 0; i < cmds.length - 1; i++) {
      const sub = { ...st, capture: [] as string[] };
      this.runCommand(cmds[i], sub, false);
      st.t = sub.t;
      st.files = sub.files;
      if (sub.stop?.kind === "forever") {
        st.stop = sub.stop;
        return;
      }
    }
    this.runCommand(cmds[cmds.length - 1], st, last);
  }

  private runCommand(cmd: Cmd, st: State, last: boolean): void {
    if (--st.budget < 0) {
      st.stop = { kind: "forever", what: "keeps running (too long to follow)" };
      return;
    }
    switch (cmd.type) {
      case "unknown":
        st.status = 0;
        return;
      case "group":
        this.runList(cmd.body, st, last);
        return;
      case "if": {
        for (const b of cmd.branches) {
          this.runList(b.cond, st, false);
          if (st.stop) return;
          if (st.status === 0) {
            this.runList(b.body, st, last);
            return;
          }
        }
        if (cmd.otherwise) this.runList(cmd.otherwise, st, last);
        else st.status = 0;
        return;
      }
      case "for": {
        const values = cmd.words ? cmd.words.flatMap((w) => this.expandWord(w, st, true)) : [];
        for (const v of values) {
          st.vars[cmd.name] = v;
          this.runList(cmd.body, st, false);
          if (st.stop) return;
        }
        return;
      }
      case "while":
      case "until":
        this.runLoop(cmd, st);
        return;
      case "simple":
        this.runSimple(cmd, st, last);
        return;
    }
  }

  private runLoop(cmd: Loop, st: State): void {
    const wantZero = cmd.type === "while";
    for (let iter = 0; iter < 1000; iter++) {
      const before = st.steps.length;
      const start = st.t;
      this.runList(cmd.cond, st, false);
      if (st.stop) return;
      if ((st.status === 0) !== wantZero) {
        st.status = 0;
        return;
      }
      this.runList(cmd.body, st, false);
      if (st.stop) return;
      const period = st.t - start;
      if (this.constantCondition(cmd) || iter === 999) {
        // Every iteration will look like this one: keep it as a repeating step list.
        const steps = st.steps.splice(before).map((s) => ({ ...s, at: s.at - start }));
        st.t = start;
        st.stop = {
          kind: "forever",
          loop: { startMs: start, periodMs: Math.max(period, 1000), steps },
          what: period > 0 ? `repeats every ${formatMs(period)} until stopped` : "loops until stopped",
        };
        return;
      }
    }
  }

  private constantCondition(cmd: Loop): boolean {
    if (cmd.cond.length !== 1 || cmd.cond[0].pipeline.length !== 1) return false;
    const c = cmd.cond[0].pipeline[0];
    if (c.type !== "simple") return false;
    const w = c.words.map((x) => plain(x) ?? "?");
    if (cmd.type === "while") return ["true", ":"].includes(w[0]) || w[0] === "sleep" || (w[0] === "[" && w[1] === "1" && w[2] === "]");
    return w[0] === "false";
  }

  /** Expands one word: parameter, command and arithmetic substitution; field splitting when unquoted. */
  expandWord(word: Token & { t: "word" }, st: State, split: boolean): string[] {
    let out = "";
    for (const seg of word.segs) out += seg.q === "single" ? seg.text : this.expandText(seg.text, st);
    if (split && word.segs.every((s) => s.q === "none")) return out.split(/\s+/).filter((x) => x !== "");
    return [out];
  }

  private expandText(text: string, st: State): string {
    let out = "";
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === "\\" && text[i + 1] === "$") {
        out += "$";
        i += 2;
        continue;
      }
      if (c === "`") {
        const end = text.indexOf("`", i + 1);
        out += this.substitute(text.slice(i + 1, end), st);
        i = end + 1;
        continue;
      }
      if (c !== "$") {
        out += c;
        i++;
        continue;
      }
      if (text.startsWith("$((", i)) {
        const end = matchParen(text, i + 1);
        out += String(arith(text.slice(i + 3, end - 1), st.vars, this.o.random));
        i = end + 1;
        continue;
      }
      if (text[i + 1] === "(") {
        const end = matchParen(text, i + 1);
        out += this.substitute(text.slice(i + 2, end), st);
        i = end + 1;
        continue;
      }
      if (text[i + 1] === "{") {
        const end = text.indexOf("}", i);
        const inner = text.slice(i + 2, end);
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::?([-=+?])(.*))?$/.exec(inner);
        if (m) {
          const v = st.vars[m[1]];
          if (m[2] === "-" || m[2] === "=") out += v === undefined || v === "" ? this.expandText(m[3], st) : v;
          else if (m[2] === "+") out += v ? this.expandText(m[3], st) : "";
          else out += v ?? "";
        }
        i = end + 1;
        continue;
      }
      const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9?#$!@*]/.exec(text.slice(i + 1));
      if (!m) {
        out += "$";
        i++;
        continue;
      }
      const name = m[0];
      if (name === "RANDOM") out += String(Math.floor(this.o.random() * 32768));
      else if (name === "?") out += String(st.status);
      else if (name === "$") out += "1";
      else out += st.vars[name] ?? "";
      i += 1 + name.length;
    }
    return out;
  }

  /** `$(cmd)`: runs cmd in a subshell and returns its output (dates become the date marker). */
  private substitute(inner: string, st: State): string {
    try {
      const items = new Parser(tokenize(inner)).parseAll();
      const sub: State = { ...st, vars: { ...st.vars }, files: new Map(st.files), steps: [], capture: [], stop: undefined, budget: 200 };
      this.runList(items, sub, false);
      return (sub.capture ?? []).join("\n");
    } catch {
      return "";
    }
  }

  private emit(st: State, text: string, stream: "stdout" | "stderr", redirect: { file?: string; append?: boolean; discard?: boolean }): void {
    if (redirect.discard) return;
    if (redirect.file) {
      const lines = redirect.append ? [...(st.files.get(redirect.file) ?? []), text] : [text];
      st.files.set(redirect.file, lines);
      st.steps.push({ at: st.t, file: redirect.file, exists: true });
      return;
    }
    if (st.capture) {
      st.capture.push(text);
      return;
    }
    for (const line of text.split("\n")) st.steps.push({ at: st.t, log: line, stream });
    st.printed += text.split("\n").length;
  }

  private runSimple(cmd: Simple, st: State, last: boolean): void {
    const argv = cmd.words.flatMap((w) => this.expandWord(w, st, true));
    // Redirections: where stdout goes.
    const redirect: { file?: string; append?: boolean; discard?: boolean; stderr?: boolean } = {};
    for (const r of cmd.redirects) {
      if (r.op === ">&2" || r.op === "1>&2") redirect.stderr = true;
      if (!r.target) continue;
      const target = this.expandWord(r.target, st, false)[0];
      if (r.op === ">" || r.op === ">>" || r.op === "&>") {
        if (target === "/dev/null") redirect.discard = true;
        else if (target === "/dev/stdout" || target === "/proc/1/fd/1") redirect.file = undefined;
        else if (target === "/dev/stderr" || target === "/proc/1/fd/2") redirect.stderr = true;
        else {
          redirect.file = fileKey(target);
          redirect.append = r.op === ">>";
        }
      }
    }
    if (argv.length === 0) {
      // Assignments only (`A=1`), or a bare redirection (`> /tmp/f` creates the file).
      for (const w of cmd.words) {
        const text = this.expandWord(w, st, false)[0];
        const eq = text.indexOf("=");
        if (eq > 0) st.vars[text.slice(0, eq)] = text.slice(eq + 1);
      }
      if (redirect.file) {
        st.files.set(redirect.file, []);
        st.steps.push({ at: st.t, file: redirect.file, exists: true });
      }
      st.status = 0;
      return;
    }
    // Leading assignments: `A=1 B=2 cmd` (kept simple: they stay set).
    while (argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0])) {
      const a = argv.shift()!;
      const eq = a.indexOf("=");
      st.vars[a.slice(0, eq)] = a.slice(eq + 1);
    }
    if (argv.length === 0) {
      st.status = 0;
      return;
    }
    const name = argv[0].split("/").pop() ?? argv[0];
    const out = (text: string) => this.emit(st, text, redirect.stderr ? "stderr" : "stdout", redirect);
    const err = (text: string) => this.emit(st, text, "stderr", {});
    switch (name) {
      case "echo": {
        let args = argv.slice(1);
        let newline = true;
        let escapes = false;
        while (args[0] && /^-[neE]+$/.test(args[0])) {
          if (args[0].includes("n")) newline = false;
          if (args[0].includes("e")) escapes = true;
          args = args.slice(1);
        }
        let text = args.join(" ");
        if (escapes) text = text.replace(/\\n/g, "\n").replace(/\\t/g, "\t");
        if (newline || text !== "") out(text);
        st.status = 0;
        return;
      }
      case "printf": {
        const fmt = argv[1] ?? "";
        let k = 2;
        const text = fmt.replace(/%[sd]/g, () => argv[k++] ?? "").replace(/\\n$/, "").replace(/\\n/g, "\n").replace(/\\t/g, "\t");
        if (text !== "") out(text);
        st.status = 0;
        return;
      }
      case "date":
        out(DATE_MARK);
        st.status = 0;
        return;
      case "hostname":
        out(st.vars.HOSTNAME ?? this.o.hostname);
        st.status = 0;
        return;
      case "env":
      case "printenv": {
        if (argv[1]) {
          const v = st.vars[argv[1]];
          if (v !== undefined) out(v);
          st.status = v === undefined ? 1 : 0;
          return;
        }
        for (const [k, v] of Object.entries(st.vars)) out(`${k}=${v}`);
        st.status = 0;
        return;
      }
      case "seq": {
        const nums = argv.slice(1).map(Number);
        const [from, to] = nums.length >= 2 ? [nums[0], nums[nums.length - 1]] : [1, nums[0] ?? 0];
        const step = nums.length === 3 ? nums[1] : 1;
        const lines: string[] = [];
        for (let n = from; step > 0 ? n <= to : n >= to; n += step) {
          lines.push(String(n));
          if (lines.length > 10_000) break;
        }
        if (lines.length) out(lines.join("\n"));
        st.status = 0;
        return;
      }
      case "true":
        st.status = 0;
        return;
      case "false":
        st.status = 1;
        return;
      case ":":
        st.status = 0;
        return;
      case "sleep": {
        const ms = parseSleep(argv[1] ?? "");
        if (ms === undefined) {
          err(`sleep: invalid number '${argv[1] ?? ""}'`);
          st.status = 1;
          return;
        }
        if (ms === Number.POSITIVE_INFINITY) {
          st.stop = { kind: "forever", what: "sleeps until stopped" };
          return;
        }
        st.t += ms;
        st.slept += ms;
        st.status = 0;
        return;
      }
      case "exit": {
        const code = argv[1] === undefined ? st.status : Number.parseInt(argv[1], 10);
        st.stop = { kind: "exit", code: Number.isFinite(code) ? ((code % 256) + 256) % 256 : 2 };
        return;
      }
      case "set":
        if (argv.slice(1).some((a) => /^-[a-z]*e/.test(a))) st.errexit = true;
        if (argv.includes("+e")) st.errexit = false;
        st.status = 0;
        return;
      case "export":
        for (const a of argv.slice(1)) {
          const eq = a.indexOf("=");
          if (eq > 0) st.vars[a.slice(0, eq)] = a.slice(eq + 1);
        }
        st.status = 0;
        return;
      case "unset":
        for (const a of argv.slice(1)) delete st.vars[a];
        st.status = 0;
        return;
      case "trap": {
        const action = argv[1] ?? "";
        const signals = argv.slice(2).map((s) => s.toUpperCase());
        if (signals.some((s) => ["TERM", "SIGTERM", "15", "INT", "SIGINT", "EXIT", "0"].includes(s))) {
          const m = /\bexit\s+(\d+)/.exec(action);
          if (m) st.trapExit = Number(m[1]);
          else if (/\bexit\b/.test(action)) st.trapExit = 0;
          else if (action === "" || action === "-") st.trapExit = undefined;
        }
        st.status = 0;
        return;
      }
      case "touch":
        for (const f of argv.slice(1).filter((a) => !a.startsWith("-"))) {
          const key = fileKey(f);
          if (!st.files.get(key)) st.files.set(key, []);
          st.steps.push({ at: st.t, file: key, exists: true });
        }
        st.status = 0;
        return;
      case "rm": {
        const force = argv.slice(1).some((a) => /^-[a-zA-Z]*f/.test(a));
        let failed = false;
        for (const f of argv.slice(1).filter((a) => !a.startsWith("-"))) {
          const key = fileKey(f);
          if (st.files.get(key) === null && !force) {
            err(`rm: can't remove '${f}': No such file or directory`);
            failed = true;
          }
          st.files.set(key, null);
          st.steps.push({ at: st.t, file: key, exists: false });
        }
        st.status = failed ? 1 : 0;
        return;
      }
      case "cat": {
        const files = argv.slice(1).filter((a) => !a.startsWith("-"));
        if (files.length === 0 || files.includes("-")) {
          if (this.o.stdin && !st.capture) {
            st.stop = { kind: "forever", what: "waits on stdin until stopped" };
            return;
          }
          st.status = 0;
          return;
        }
        let failed = false;
        for (const f of files) {
          const content = st.files.get(fileKey(f));
          if (content === null) {
            err(`cat: can't open '${f}': No such file or directory`);
            failed = true;
          } else if (content && content.length) out(content.join("\n"));
        }
        st.status = failed ? 1 : 0;
        return;
      }
      case "ls": {
        const files = argv.slice(1).filter((a) => !a.startsWith("-"));
        let failed = false;
        for (const f of files) {
          if (st.files.get(fileKey(f)) === null) {
            err(`ls: ${f}: No such file or directory`);
            failed = true;
          } else out(f);
        }
        st.status = failed ? 1 : 0;
        return;
      }
      case "test":
      case "[":
      case "[[":
        st.status = this.test(argv.slice(1).filter((a) => a !== "]" && a !== "]]"), st) ? 0 : 1;
        return;
      case "wait":
        if (st.bgForever) {
          st.stop = { kind: "forever", what: "waits for its background jobs until stopped" };
          return;
        }
        st.t = Math.max(st.t, st.bgEnd);
        st.status = 0;
        return;
      case "yes":
        if (st.capture) {
          st.status = 0;
          return;
        }
        st.stop = { kind: "forever", what: "prints y until stopped" };
        return;
      case "tail":
        if (argv.includes("-f") || argv.includes("-F") || argv.some((a) => /^--follow/.test(a))) {
          st.stop = { kind: "forever", what: "follows a file until stopped" };
          return;
        }
        st.status = 0;
        return;
      case "ping": {
        const countIdx = argv.indexOf("-c");
        const host = argv.slice(1).filter((a, idx) => !a.startsWith("-") && argv[idx] !== "-c").pop() ?? "localhost";
        out(`PING ${host} (${host}): 56 data bytes`);
        const count = countIdx > 0 ? Number(argv[countIdx + 1]) : Number.POSITIVE_INFINITY;
        if (!Number.isFinite(count)) {
          st.stop = { kind: "forever", loop: { startMs: st.t + 1000, periodMs: 1000, steps: [{ at: 0, log: `64 bytes from ${host}: seq=0 ttl=64 time=0.081 ms`, stream: "stdout" }] }, what: "pings until stopped" };
          return;
        }
        for (let n = 0; n < count; n++) {
          out(`64 bytes from ${host}: seq=${n} ttl=64 time=0.081 ms`);
          if (n < count - 1) st.t += 1000;
        }
        st.status = 0;
        return;
      }
      case "exec": {
        const rest = argv.slice(1);
        if (rest.length === 0) {
          st.status = 0;
          return;
        }
        const b = this.o.program(rest);
        if (b) {
          st.stop = { kind: "forever", program: b, what: "exec" };
          return;
        }
        // A short utility exec'd: the shell becomes it and exits with its status.
        this.runSimple({ type: "simple", words: rest.map((text) => ({ t: "word", segs: [{ text, q: "single" }] })), redirects: cmd.redirects }, st, true);
        if (!st.stop) st.stop = { kind: "exit", code: st.status };
        return;
      }
    }
    if (SHORT_UTILITIES.has(name)) {
      st.status = 0;
      return;
    }
    // A program the shell starts. At the end of the script it is the application: it runs in
    // the foreground until stopped (or as the catalog says). In the middle, it is a step that
    // finishes (an installer, a migration).
    const b = this.o.program(argv);
    if (last && !st.capture && b) {
      st.stop = { kind: "forever", program: b, what: "program" };
      return;
    }
    st.status = 0;
  }

  private test(args: string[], st: State): boolean {
    if (args.length === 0) return false;
    if (args[0] === "!") return !this.test(args.slice(1), st);
    if (args.length === 1) return args[0] !== "";
    if (args.length === 2) {
      const [op, v] = args;
      if (op === "-z") return v === "";
      if (op === "-n") return v !== "";
      if (["-f", "-e", "-s", "-r", "-d", "-x", "-w"].includes(op)) {
        const content = st.files.get(fileKey(v));
        if (content === null) return false;
        if (content === undefined) return !v.startsWith("/tmp/");
        return op !== "-s" || content.length > 0;
      }
      return true;
    }
    const [a, op, b] = args;
    switch (op) {
      case "=":
      case "==":
        return a === b;
      case "!=":
        return a !== b;
      case "-eq":
        return Number(a) === Number(b);
      case "-ne":
        return Number(a) !== Number(b);
      case "-lt":
        return Number(a) < Number(b);
      case "-le":
        return Number(a) <= Number(b);
      case "-gt":
        return Number(a) > Number(b);
      case "-ge":
        return Number(a) >= Number(b);
      default:
        return true;
    }
  }
}

function matchParen(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === "(") depth++;
    else if (text[j] === ")") {
      depth--;
      if (depth === 0) return j;
    }
  }
  return text.length - 1;
}
