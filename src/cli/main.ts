/**
 * The command line: `halb run|check|ctl|import|demo|version [options]`. Parses arguments with node:util's
 * parseArgs, dispatches, and turns every user error into one clear line and an exit code:
 * 0 ok, 2 invalid config or usage, 1 runtime failure. No stack traces for user errors.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatDiagnostic, loadConfig } from "../config/load.ts";
import type { Config, Diagnostic } from "../config/types.ts";
import { versionText } from "./version.ts";
import { runHalb } from "../runtime/run.ts";
import { runDemo } from "./demo.ts";
import { CTL_USAGE, runCtl } from "./ctl.ts";
import { IMPORT_HELP, runImport } from "./import.ts";

/** Exit codes. */
export const EXIT_OK = 0;
/** A runtime failure (bind error, crash). */
export const EXIT_RUNTIME = 1;
/** Invalid configuration or usage. */
export const EXIT_USAGE = 2;

/** The default config file, as HAProxy's and keepalived's /etc paths. */
export const DEFAULT_CONFIG = "/etc/halb/halb.toml";

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const consoleIo: CliIo = {
  out: (t) => console.log(t),
  err: (t) => console.error(t),
};

const USAGE = `halb: VRRP (keepalived) and a TCP/HTTP load balancer (HAProxy) from one TOML file

Usage: halb <command> [options]

Commands:
  run [-c FILE]      run everything FILE describes, in the foreground (default ${DEFAULT_CONFIG})
  check [-c FILE]    validate FILE; print every problem as FILE:LINE:COL: key.path: message
  ctl COMMAND...     send a runtime API command (show stat, set server ..., reload) to halb
  import [--haproxy FILE] [--keepalived FILE] [-o OUT]
                     print an equivalent halb.toml; warn about each directive it cannot map
  demo               run the embedded default config with two demo backends on 127.0.0.1
  version            print halb's version, the runtime's version and the build target

Run 'halb <command> --help' for a command's options.
Signals: SIGHUP reloads, SIGTERM/SIGINT stop gracefully.`;

const COMMAND_HELP: Record<string, string> = {
  run: `Usage: halb run [-c FILE]

Runs the proxy (and VRRP, where the process may) as FILE describes, in the foreground.
  -c, --config FILE   configuration file (default ${DEFAULT_CONFIG})
  -h, --help          show this help
Exit codes: 0 after a graceful stop, 1 runtime failure, 2 invalid configuration.`,
  check: `Usage: halb check [-c FILE]

Validates FILE and prints every error and warning. Exit 0 when valid (warnings allowed), 2 otherwise.
  -c, --config FILE   configuration file (default ${DEFAULT_CONFIG})
  -h, --help          show this help`,
  demo: `Usage: halb demo

Starts two demo HTTP backends on 127.0.0.1 and runs halb on the embedded default configuration
(config/halb.toml): try \`curl http://127.0.0.1:8080/\` a few times. Stop with Ctrl-C.
  -h, --help          show this help`,
  ctl: CTL_USAGE,
  import: IMPORT_HELP,
  version: `Usage: halb version

Prints halb's version, the Deno/V8 versions and the build target.`,
};

type Options = { config?: string; help?: boolean };

function parse(command: string, args: string[]): Options {
  const withConfig = command === "run" || command === "check";
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      ...(withConfig ? { config: { type: "string", short: "c" } } : {}),
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  return values as Options;
}

class UsageError extends Error {}

function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): number {
  let errors = 0;
  for (const d of diagnostics) {
    io.err(formatDiagnostic(d));
    if (d.severity === "error") errors++;
  }
  return errors;
}

/** Loads and validates a config file, printing its diagnostics; null when it has errors. */
export function loadAndReport(io: CliIo, file: string): Config | null {
  const result = loadConfig(file);
  const errors = printDiagnostics(io, result.diagnostics);
  if (errors > 0 || result.config === null) {
    io.err(`${file}: ${errors} error${errors === 1 ? "" : "s"}, configuration rejected`);
    return null;
  }
  return result.config;
}

/**
 * Runs the CLI with the given arguments (without the program name) and resolves to the exit
 * code. `run` and `demo` resolve only when halb has stopped.
 */
export async function main(args: string[], io: CliIo = consoleIo): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    io.out(USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (!(command in COMMAND_HELP)) {
    io.err(`halb: unknown command "${command}" (run 'halb --help' for the list)`);
    return EXIT_USAGE;
  }
  // ctl's command words (e.g. "-1" in "show stat be 4 -1") are not options: it parses its own.
  if (command === "ctl") return await runCtl(rest, io);
  if (command === "import") return await runImport(rest, io);
  let options: Options;
  try {
    options = parse(command, rest);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    io.err(`halb ${command}: ${message.split("\n")[0]} (run 'halb ${command} --help')`);
    return EXIT_USAGE;
  }
  if (options.help) {
    io.out(COMMAND_HELP[command]);
    return EXIT_OK;
  }
  switch (command) {
    case "version":
      io.out(versionText());
      return EXIT_OK;
    case "check": {
      const file = options.config ?? DEFAULT_CONFIG;
      const config = loadAndReport(io, file);
      if (config === null) return EXIT_USAGE;
      io.out(`${file}: configuration is valid`);
      return EXIT_OK;
    }
    case "run": {
      const file = options.config ?? DEFAULT_CONFIG;
      const config = loadAndReport(io, file);
      if (config === null) return EXIT_USAGE;
      return await runHalb(config, { io });
    }
    default:
      return await runDemo({ io });
  }
}
