/**
 * The control socket of a running `kubelings serve`: commands such as `sync`, `diff`, `status`
 * and `history` work with or without a running server on the same state directory. When a
 * server holds the state (its store lock), a command is sent to it over a Unix socket in the
 * state directory (mode 0600, so only the same user can talk to it) and runs inside the server,
 * which is then the only writer; otherwise the command opens the state itself.
 *
 * Protocol: one JSON line request `{command, options}`, one JSON line response
 * `{code, stdout, stderr}`.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

/** Name of the socket file inside the state directory. */
export const CONTROL_SOCKET = "control.sock";

/** What a command printed and its exit code. */
export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command inside the server. */
export type ControlHandler = (command: string, options: Record<string, unknown>) => Promise<CommandOutput>;

/** Collects what a command writes, for running it in-process or remotely. */
export class CapturedIo {
  private out: string[] = [];
  private err: string[] = [];
  readonly stdout = { write: (s: string) => (this.out.push(s), true) } as unknown as NodeJS.WritableStream;
  readonly stderr = { write: (s: string) => (this.err.push(s), true) } as unknown as NodeJS.WritableStream;
  result(code: number): CommandOutput {
    return { code, stdout: this.out.join(""), stderr: this.err.join("") };
  }
}

/** Path of the control socket for a state directory. */
export function controlSocketPath(stateDir: string): string {
  return path.join(path.resolve(stateDir), CONTROL_SOCKET);
}

/** Serves commands on the state directory's socket until `close` is called. */
export async function startControlServer(stateDir: string, handler: ControlHandler): Promise<{ close(): Promise<void> }> {
  const socketPath = controlSocketPath(stateDir);
  // A socket file left by a killed server is stale: the store lock (held by us now) proves nobody serves it.
  fs.rmSync(socketPath, { force: true });
  const server = net.createServer((conn) => {
    let buffer = "";
    conn.setEncoding("utf8");
    conn.on("data", (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf("\n");
      if (nl < 0) return;
      const line = buffer.slice(0, nl);
      buffer = "";
      let request: { command?: unknown; options?: unknown };
      try {
        request = JSON.parse(line);
      } catch {
        conn.end(JSON.stringify({ code: 2, stdout: "", stderr: "kubelings serve: malformed control request\n" }) + "\n");
        return;
      }
      const command = typeof request.command === "string" ? request.command : "";
      const options = request.options && typeof request.options === "object" ? (request.options as Record<string, unknown>) : {};
      handler(command, options).then(
        (out) => conn.end(JSON.stringify(out) + "\n"),
        (err) => conn.end(JSON.stringify({ code: 2, stdout: "", stderr: `kubelings serve: ${err instanceof Error ? err.message : String(err)}\n` }) + "\n"),
      );
    });
    conn.on("error", () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      // Unix socket paths are limited to about 107 bytes.
      if (err.code === "EINVAL" || err.code === "ENAMETOOLONG") {
        reject(new Error(`the control socket path ${socketPath} is too long for this system (${socketPath.length} characters): use a shorter --state directory`));
      } else reject(err);
    });
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(socketPath, { force: true });
      }),
  };
}

/** Sends a command to the server on `stateDir`. Resolves undefined when no server answers. */
export function callControl(stateDir: string, command: string, options: Record<string, unknown>): Promise<CommandOutput | undefined> {
  const socketPath = controlSocketPath(stateDir);
  if (!fs.existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const conn = net.createConnection(socketPath);
    let buffer = "";
    let connected = false;
    conn.setEncoding("utf8");
    conn.on("connect", () => {
      connected = true;
      conn.write(JSON.stringify({ command, options }) + "\n");
    });
    conn.on("data", (chunk: string) => (buffer += chunk));
    conn.on("end", () => {
      try {
        resolve(JSON.parse(buffer.trim()) as CommandOutput);
      } catch {
        resolve({ code: 2, stdout: "", stderr: "kubelings: the running server sent an unreadable answer\n" });
      }
    });
    conn.on("error", () => resolve(connected ? { code: 2, stdout: "", stderr: "kubelings: lost the connection to the running server\n" } : undefined));
  });
}
