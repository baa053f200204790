/**
 * `halb ctl`: the runtime API from the shell. Sends one command line to the runtime socket
 * (HAProxy's protocol, with `set severity-output number` so errors are recognised) or to the
 * admin HTTP API (`POST /api/command`), prints the answer and exits 0 (done), 1 (the command
 * failed or halb could not be reached) or 2 (usage or configuration problem).
 *
 * Without `--socket` or `--url`, the config file's `[admin] socket` is used, else its `[admin]
 * bind` with the first `auth` user.
 *
 * @module
 */
import { formatDiagnostic, loadConfig } from "../config/load.ts";
import type { AdminConfig } from "../config/types.ts";

/** Where ctl writes. */
export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
}

/** ctl's usage text. */
export const CTL_USAGE =
  `Usage: halb ctl [-c FILE] [--socket PATH | --url URL] [--user U --password P] COMMAND...

Sends COMMAND to a running halb: to the runtime socket, or to the admin HTTP API.
  -c, --config FILE     take the socket (or the admin address and first user) from FILE
                        (default /etc/halb/halb.toml)
  -s, --socket PATH     the runtime API unix socket
  -u, --url URL         the admin endpoint, e.g. http://127.0.0.1:8404 (alias: --admin)
      --user USER       Basic auth user for --url
      --password PASS   Basic auth password for --url
  -h, --help            show this help
Commands: show info | show stat | show servers state [B] | show vrrp | get weight B/S |
  set weight B/S W[%] | set server B/S state ready|drain|maint | enable|disable server B/S |
  reload | help     (several may be joined with ';')
Exit codes: 0 done, 1 the command failed or halb is unreachable, 2 usage or config error.`;

const DEFAULT_CONFIG = "/etc/halb/halb.toml";

interface CtlArgs {
  config: string | null;
  socket: string | null;
  url: string | null;
  user: string | null;
  password: string | null;
  help: boolean;
  command: string;
}

const VALUE_OPTIONS: Readonly<Record<string, keyof CtlArgs>> = {
  "-c": "config",
  "--config": "config",
  "-s": "socket",
  "--socket": "socket",
  "-u": "url",
  "--url": "url",
  "--admin": "url",
  "--user": "user",
  "--password": "password",
};

/**
 * Parses ctl's arguments: options first, then the command words verbatim (so `show stat be 4
 * -1` keeps its `-1`). Throws a usage message.
 */
export function parseCtlArgs(args: readonly string[]): CtlArgs {
  const out: CtlArgs = {
    config: null,
    socket: null,
    url: null,
    user: null,
    password: null,
    help: false,
    command: "",
  };
  let i = 0;
  for (; i < args.length; i++) {
    let arg = args[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (arg === "-h" || arg === "--help") {
      out.help = true;
      continue;
    }
    let inline: string | null = null;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const key = VALUE_OPTIONS[arg];
    if (key === undefined) {
      if (arg.startsWith("-")) throw new Error(`unknown option "${arg}"`);
      break;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(`option "${arg}" needs a value`);
    (out as unknown as Record<string, string>)[key] = value;
  }
  out.command = args.slice(i).join(" ");
  if (out.socket !== null && out.url !== null) throw new Error("give --socket or --url, not both");
  return out;
}

/** The answer of a command, without severity prefixes, and whether it reported an error. */
export interface CtlAnswer {
  text: string;
  failed: boolean;
}

/**
 * Reads a socket answer given with `set severity-output number`: drops the first (empty)
 * answer of that command, strips `[N]: ` prefixes and reports an error for levels up to 3.
 */
export function parseSocketAnswer(raw: string): CtlAnswer {
  const body = raw.startsWith("\n") ? raw.slice(1) : raw;
  let failed = false;
  const lines = body.split("\n").map((line) => {
    const m = /^\[(\d)\]: (.*)$/.exec(line);
    if (m === null) return line;
    if (Number(m[1]) <= 3) failed = true;
    return m[2];
  });
  return { text: lines.join("\n").replace(/\n+$/, ""), failed };
}

/** Sends one line to the runtime socket and reads the answer until the server closes. */
async function viaSocket(path: string, command: string): Promise<CtlAnswer> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    const bytes = new TextEncoder().encode(`set severity-output number;${command}\n`);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    const raw = await new Response(conn.readable).text();
    return parseSocketAnswer(raw);
  } finally {
    try {
      conn.close();
    } catch {
      // closed by reading to the end
    }
  }
}

async function viaHttp(
  url: string,
  command: string,
  auth: { user: string | null; password: string | null },
): Promise<CtlAnswer> {
  const headers: Record<string, string> = { "content-type": "text/plain" };
  if (auth.user !== null) {
    const bytes = new TextEncoder().encode(`${auth.user}:${auth.password ?? ""}`);
    headers.authorization = `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
  const res = await fetch(`${url.replace(/\/+$/, "")}/api/command`, {
    method: "POST",
    headers,
    body: command,
  });
  const text = (await res.text()).replace(/\n+$/, "");
  if (res.status === 401) {
    return { text: "authentication failed (give --user and --password)", failed: true };
  }
  return { text, failed: res.status !== 200 };
}

/** The admin URL of a config's `[admin] bind` (wildcards → loopback). */
export function adminUrl(admin: AdminConfig): string | null {
  if (admin.bind.kind !== "inet") return null;
  const host = admin.bind.host === "0.0.0.0"
    ? "127.0.0.1"
    : admin.bind.host === "::"
    ? "::1"
    : admin.bind.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${admin.bind.port}`;
}

/** Runs `halb ctl` with its arguments (after `ctl`); resolves to the exit code. */
export async function runCtl(args: string[], io: CtlIo): Promise<number> {
  let parsed: CtlArgs;
  try {
    parsed = parseCtlArgs(args);
  } catch (e) {
    io.err(`halb ctl: ${e instanceof Error ? e.message : e} (run 'halb ctl --help')`);
    return 2;
  }
  if (parsed.help) {
    io.out(CTL_USAGE);
    return 0;
  }
  if (parsed.command.trim() === "") {
    io.err("halb ctl: no command given (run 'halb ctl --help')");
    return 2;
  }
  let { socket, url, user, password } = parsed;
  if (socket === null && url === null) {
    const file = parsed.config ?? DEFAULT_CONFIG;
    const result = loadConfig(file);
    if (result.config === null) {
      for (const d of result.diagnostics) io.err(formatDiagnostic(d));
      io.err(`halb ctl: ${file} has errors; give --socket or --url`);
      return 2;
    }
    const admin = result.config.admin;
    if (admin === null) {
      io.err(`halb ctl: ${file} has no [admin] section; give --socket or --url`);
      return 2;
    }
    socket = admin.socket;
    if (socket === null) {
      url = adminUrl(admin);
      if (url === null) {
        io.err(`halb ctl: [admin] binds a unix socket and has no runtime socket; give --url`);
        return 2;
      }
      user ??= admin.auth[0]?.user ?? null;
      password ??= admin.auth[0]?.password ?? null;
    }
  }
  let answer: CtlAnswer;
  const target = socket ?? url!;
  try {
    answer = socket !== null
      ? await viaSocket(socket, parsed.command)
      : await viaHttp(url!, parsed.command, { user, password });
  } catch (e) {
    io.err(`halb ctl: cannot reach ${target}: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  if (answer.text !== "" && answer.failed) io.err(answer.text);
  else if (answer.text !== "") io.out(answer.text);
  return answer.failed ? 1 : 0;
}
