/**
 * `halb import [--haproxy FILE] [--keepalived FILE] [-o OUT]`: prints (or writes) a halb.toml
 * equivalent to an existing haproxy.cfg and/or keepalived.conf. Each directive that cannot be
 * mapped is reported on stderr as `FILE:LINE: directive: cannot be mapped (why)`. Exit 0 when
 * a document was produced, 2 on bad usage or unreadable/unparsable input.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatDiagnostic } from "../config/load.ts";
import { importConfigs, type ImportSource } from "../import/import.ts";
import { formatParseError, formatWarning } from "../import/source.ts";

/** Where `runImport` writes. */
export interface ImportIo {
  out(text: string): void;
  err(text: string): void;
}

/** The help text of `halb import`. */
export const IMPORT_HELP = `Usage: halb import [--haproxy FILE] [--keepalived FILE] [-o OUT]

Reads an existing haproxy.cfg and/or keepalived.conf and prints an equivalent halb.toml.
Each directive that cannot be mapped is reported on stderr as
FILE:LINE: directive: cannot be mapped (why).
  --haproxy FILE      HAProxy configuration to import
  --keepalived FILE   keepalived configuration to import (include directives are followed)
  -o, --output OUT    write the TOML to OUT instead of stdout
  -h, --help          show this help
Exit codes: 0 imported (warnings allowed), 2 bad usage or unreadable input.`;

function read(path: string, io: ImportIo): ImportSource | null {
  try {
    return { file: path, text: Deno.readTextFileSync(path) };
  } catch (e) {
    io.err(`halb import: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

/** Runs `halb import` with the arguments after `import`; resolves to the exit code. */
export function runImport(
  args: string[],
  io: { out(s: string): void; err(s: string): void },
): Promise<number> {
  let values: { haproxy?: string; keepalived?: string; output?: string; help?: boolean };
  try {
    const parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        haproxy: { type: "string" },
        keepalived: { type: "string" },
        output: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
    });
    values = parsed.values;
  } catch (e) {
    io.err(`halb import: ${e instanceof Error ? e.message : String(e)}\n\n${IMPORT_HELP}`);
    return Promise.resolve(2);
  }
  if (values.help) {
    io.out(IMPORT_HELP);
    return Promise.resolve(0);
  }
  if (values.haproxy === undefined && values.keepalived === undefined) {
    io.err(`halb import: give --haproxy FILE and/or --keepalived FILE\n\n${IMPORT_HELP}`);
    return Promise.resolve(2);
  }
  const haproxy = values.haproxy === undefined ? undefined : read(values.haproxy, io);
  const keepalived = values.keepalived === undefined ? undefined : read(values.keepalived, io);
  if (haproxy === null || keepalived === null) return Promise.resolve(2);
  const result = importConfigs({ haproxy, keepalived });
  if (!result.ok) {
    for (const e of result.errors) io.err(formatParseError(e));
    return Promise.resolve(2);
  }
  for (const w of result.warnings) io.err(formatWarning(w));
  for (const d of result.unresolved) {
    io.err(`halb import: the output still fails halb check: ${formatDiagnostic(d)}`);
  }
  if (values.output !== undefined) {
    try {
      Deno.writeTextFileSync(values.output, result.toml);
    } catch (e) {
      io.err(`halb import: cannot write ${values.output}: ${e instanceof Error ? e.message : e}`);
      return Promise.resolve(2);
    }
  } else {
    io.out(result.toml.replace(/\n$/, ""));
  }
  return Promise.resolve(result.unresolved.length > 0 ? 2 : 0);
}
