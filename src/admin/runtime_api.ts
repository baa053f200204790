/**
 * The runtime API (HAProxy's "stats socket" CLI) as a pure parser and an executor over an
 * {@linkcode AdminSource}: `show info`, `show stat`, `show servers state`, `set server B/S state
 * ready|drain|maint`, `set server B/S weight W`, `enable|disable server B/S`, `set weight B/S
 * W[%]`, `get weight B/S`, `show vrrp`, `reload`, `help`, `prompt`, `quit`, `set severity-output`.
 * A line may hold several commands separated by `;` (`\` escapes). Each answer ends with an empty
 * line, and errors are worded as HAProxy 2.6 words them.
 *
 * @module
 */
import { type CsvFilter, statsCsv } from "./csv.ts";
import { type AdminSource, findBackend, findServer, type StatsModel } from "./model.ts";
import { serversState, showInfo, showVrrp } from "./report.ts";

/** A parsed command. */
export type Command =
  | { kind: "help" }
  | { kind: "prompt" }
  | { kind: "quit" }
  | { kind: "severity"; mode: "none" | "number" | "string" }
  | { kind: "show-info" }
  | { kind: "show-stat"; filter: CsvFilter | null }
  | { kind: "show-servers-state"; backend: string | null }
  | { kind: "show-vrrp" }
  | { kind: "set-state"; backend: string; server: string; state: "ready" | "drain" | "maint" }
  | { kind: "set-weight"; backend: string; server: string; weight: string }
  | { kind: "get-weight"; backend: string; server: string }
  | { kind: "reload" }
  | { kind: "error"; message: string };

/** One answer: its text and, for messages, their syslog severity (3 error, 6 info). */
export interface Answer {
  text: string;
  /** Null for data output (never prefixed by `set severity-output`). */
  level: 3 | 6 | null;
}

/** Per-connection state. */
export interface Session {
  severity: "none" | "number" | "string";
  /** `prompt` mode: the connection stays open and answers end with `> `. */
  interactive: boolean;
  /** `quit` was asked. */
  quit: boolean;
}

/** A fresh non-interactive session. */
export function newSession(): Session {
  return { severity: "none", interactive: false, quit: false };
}

const HELP: readonly (readonly [string, string])[] = [
  ["disable server <bk>/<srv>", "disable a server for maintenance (use 'set server' instead)"],
  ["enable server <bk>/<srv>", "enable a disabled server (use 'set server' instead)"],
  ["get weight <bk>/<srv>", "report a server's current weight"],
  ["set server <bk>/<srv> [opts]", "change a server's state or weight"],
  [
    "set severity-output [none|number|string]",
    "set presence of severity level in feedback information",
  ],
  ["set weight <bk>/<srv> <w>[%]", "change a server's weight (use 'set server' instead)"],
  ["show info", "report information about the running process"],
  [
    "show servers state [<backend>]",
    "dump volatile server information (all or for a single backend)",
  ],
  ["show stat [<px> <type> <sid>]", "report counters for each proxy and server"],
  ["show vrrp", "report the state of each VRRP instance"],
  ["reload", "validate the configuration file again and apply it"],
  ["help [<command>]", "list matching or all commands"],
  ["prompt", "toggle interactive mode with prompt"],
  ["quit", "disconnect"],
];

function helpLines(filter: (usage: string) => boolean): string {
  return HELP.filter(([u]) => filter(u))
    .map(([u, d]) => `  ${u.padEnd(40)}: ${d}\n`)
    .join("");
}

/** The list `help` prints. */
export function helpText(): string {
  return "The following commands are valid at this level:\n" + helpLines(() => true);
}

function unknownCommand(words: readonly string[]): string {
  const first = words[0] ?? "";
  const close = first === "" ? "" : helpLines((u) => u.split(" ")[0] === first);
  if (close !== "") {
    return "Unknown command, but maybe one of the following ones is a better match:\n" + close;
  }
  return "Unknown command. Please enter one of the following commands only:\n" +
    helpLines(() => true);
}

/**
 * Splits a line into commands (at unescaped `;`) and each command into words (at unescaped
 * blanks); `\` makes the next character literal.
 */
export function splitLine(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (ch === ";") {
      endWord();
      commands.push(words);
      words = [];
    } else if (ch === " " || ch === "\t" || ch === "\r" || ch === "\n") {
      endWord();
    } else {
      word += ch;
      inWord = true;
    }
  }
  endWord();
  commands.push(words);
  return commands;
}

const REQUIRE_SERVER = "Require 'backend/server'.";

function serverRef(word: string | undefined): { backend: string; server: string } | null {
  if (word === undefined) return null;
  const i = word.indexOf("/");
  if (i < 0) return null;
  return { backend: word.slice(0, i), server: word.slice(i + 1) };
}

const STATE_EXPECTS = "'set server <srv> state' expects 'ready', 'drain' and 'maint'.";

/** Parses the words of one command. */
export function parseCommand(words: readonly string[]): Command {
  const [a, b, c, d, e] = words;
  const ref = (
    w: string | undefined,
    build: (r: { backend: string; server: string }) => Command,
  ) => {
    const r = serverRef(w);
    return r === null ? { kind: "error" as const, message: REQUIRE_SERVER } : build(r);
  };
  if (a === "help") return { kind: "help" };
  if (a === "prompt" && b === undefined) return { kind: "prompt" };
  if (a === "quit" && b === undefined) return { kind: "quit" };
  if (a === "reload" && b === undefined) return { kind: "reload" };
  if (a === "show") {
    if (b === "info") return { kind: "show-info" };
    if (b === "vrrp") return { kind: "show-vrrp" };
    if (b === "stat") {
      if (c === undefined || d === undefined || e === undefined) {
        return { kind: "show-stat", filter: null };
      }
      return {
        kind: "show-stat",
        filter: { proxy: c, types: Math.trunc(Number(d)) || 0, sid: Math.trunc(Number(e)) || 0 },
      };
    }
    if (b === "servers" && c === "state") return { kind: "show-servers-state", backend: d ?? null };
  }
  if ((a === "enable" || a === "disable") && b === "server") {
    return ref(c, (r) => ({ kind: "set-state", ...r, state: a === "enable" ? "ready" : "maint" }));
  }
  if (a === "get" && b === "weight") return ref(c, (r) => ({ kind: "get-weight", ...r }));
  if (a === "set" && b === "weight") {
    return ref(
      c,
      (r) =>
        d === undefined
          ? { kind: "error", message: "Require <weight> or <weight%>." }
          : { kind: "set-weight", ...r, weight: d },
    );
  }
  if (a === "set" && b === "severity-output") {
    if (c === "none" || c === "number" || c === "string") return { kind: "severity", mode: c };
    return { kind: "error", message: "one of 'none', 'number', 'string' is expected" };
  }
  if (a === "set" && b === "server") {
    return ref(c, (r) => {
      if (d === "state") {
        if (e === "ready" || e === "drain" || e === "maint") {
          return { kind: "set-state", ...r, state: e };
        }
        return { kind: "error", message: STATE_EXPECTS };
      }
      if (d === "weight") {
        return e === undefined
          ? { kind: "error", message: "Require <weight> or <weight%>." }
          : { kind: "set-weight", ...r, weight: e };
      }
      return { kind: "error", message: "usage: set server <backend>/<server> state | weight" };
    });
  }
  return { kind: "error", message: unknownCommand(words).trimEnd() };
}

/** HAProxy's `strtol`-based weight parser; absolute weight, or the error text. */
export function parseWeight(text: string, iweight: number): number | string {
  const m = /^\s*([+-]?\d+)(.*)$/.exec(text);
  if (m === null) return "Empty weight string empty or preceded by garbage";
  let w = Number(m[1]);
  if (m[2] === "%") {
    if (w < 0) return "Relative weight must be positive.\n";
    w = Math.floor(iweight * w / 100);
    if (w > 256) return "Relative weight too large.\n";
    return w;
  }
  if (m[2] !== "") return "Trailing garbage in weight string";
  if (w < 0 || w > 256) return "Absolute weight can only be between 0 and 256 inclusive.\n";
  return w;
}

/** Options of {@linkcode executeCommand} and {@linkcode executeLine}. */
export interface ExecOptions {
  /** False: `set`/`enable`/`disable`/`reload` answer "Permission denied". */
  allowChanges: boolean;
}

function error(message: string): Answer {
  return { text: message.endsWith("\n") ? message : `${message}\n`, level: 3 };
}

function lookup(
  model: StatsModel,
  ref: { backend: string; server: string },
): { backend: string; server: string; iweight: number; uweight: number } | Answer {
  const be = findBackend(model, ref.backend);
  if (be === undefined) return error("No such backend.");
  const s = findServer(be, ref.server);
  if (s === undefined) return error("No such server.");
  return { backend: be.name, server: s.name, iweight: s.iweight, uweight: s.uweight };
}

/** Runs one parsed command. */
export async function executeCommand(
  command: Command,
  context: { source: AdminSource; session: Session; options: ExecOptions },
): Promise<Answer> {
  const { source, session } = context;
  const changes = command.kind === "set-state" || command.kind === "set-weight" ||
    command.kind === "reload";
  if (changes && !context.options.allowChanges) return error("Permission denied");
  switch (command.kind) {
    case "error":
      return error(command.message);
    case "help":
      return { text: helpText(), level: null };
    case "prompt":
      session.interactive = !session.interactive;
      return { text: "", level: null };
    case "quit":
      session.quit = true;
      return { text: "", level: null };
    case "severity":
      session.severity = command.mode;
      return { text: "", level: null };
    case "show-info":
      return { text: showInfo(source.model()), level: null };
    case "show-vrrp":
      return { text: showVrrp(source.model()), level: null };
    case "show-stat": {
      const model = source.model();
      const filter = command.filter?.proxy === "-1"
        ? { ...command.filter, proxy: null }
        : command.filter ?? undefined;
      if (filter?.proxy && !hasProxy(model, filter.proxy)) return error("No such proxy.");
      return { text: statsCsv(model, { filter, withAddr: true }), level: null };
    }
    case "show-servers-state": {
      const text = serversState(source.model(), command.backend ?? undefined);
      return text === null ? error("Can't find backend.") : { text, level: null };
    }
    case "get-weight": {
      const found = lookup(source.model(), command);
      if ("text" in found) return found;
      return { text: `${found.uweight} (initial ${found.iweight})\n`, level: null };
    }
    case "set-state": {
      const found = lookup(source.model(), command);
      if ("text" in found) return found;
      const err = source.serverAction(found.backend, found.server, command.state);
      return err === null ? { text: "", level: null } : error(err);
    }
    case "set-weight": {
      const found = lookup(source.model(), command);
      if ("text" in found) return found;
      const w = parseWeight(command.weight, found.iweight);
      if (typeof w === "string") return { text: w, level: 3 };
      const err = source.serverAction(found.backend, found.server, { weight: w });
      return err === null ? { text: "", level: null } : error(err);
    }
    case "reload": {
      const result = await source.reload();
      if (result.ok) return { text: "Reload done: the new configuration is serving.\n", level: 6 };
      return error(
        ["Reload rejected; the running configuration keeps serving:", ...result.errors].join("\n"),
      );
    }
  }
}

function hasProxy(model: StatsModel, ref: string): boolean {
  return [...model.frontends, ...model.backends].some((p) => p.name === ref || `#${p.id}` === ref);
}

/** Prefixes a message answer as `set severity-output` asks (`[3]: ` or `[err]: `). */
export function renderAnswer(answer: Answer, session: Session): string {
  let text = answer.text;
  if (answer.level !== null && session.severity !== "none" && text !== "") {
    const tag = session.severity === "number" ? String(answer.level) : LEVEL_NAMES[answer.level];
    text = `[${tag}]: ${text}`;
  }
  return text + "\n";
}

const LEVEL_NAMES = { 3: "err", 6: "info" } as const;

/** The rendered answers of a line, one per command, and whether any of them was an error. */
export interface LineResult {
  /** Each command's answer, already ending with its empty line. */
  parts: string[];
  failed: boolean;
}

/** Parses and runs every command of a line in order (stops after `quit`). */
export async function executeLine(
  line: string,
  context: { source: AdminSource; session: Session; options: ExecOptions },
): Promise<LineResult> {
  const parts: string[] = [];
  let failed = false;
  const commands = splitLine(line);
  for (const [i, words] of commands.entries()) {
    // A trailing `;` leaves an empty last command: HAProxy ignores it.
    if (words.length === 0 && i > 0 && i === commands.length - 1) break;
    const answer = await executeCommand(parseCommand(words), context);
    if (context.session.quit) break;
    if (answer.level === 3) failed = true;
    parts.push(renderAnswer(answer, context.session));
  }
  return { parts, failed };
}
