/**
 * The config compiler's public API: TOML text → validated, deeply frozen {@linkcode Config},
 * with every problem reported as a located {@linkcode Diagnostic}.
 *
 * Pipeline: smol-toml parses (syntax errors keep its line/column); each section is validated
 * against {@linkcode SCHEMA} into the types of `types.ts`; proxies inherit from `[defaults]`;
 * cross-references (backends, ACLs, scripts, instances, frontends) are checked; diagnostics are
 * located with toml-eslint-parser and sorted by position.
 *
 * @module
 */

import { dirname } from "node:path";
import { parse, TomlError } from "smol-toml";
import { Diagnostics, formatDiagnostic } from "./diagnostics.ts";
import { compileAdmin, compileGlobal } from "./global.ts";
import { TomlLocator } from "./locate.ts";
import { type HostProbe, systemProbe } from "./probe.ts";
import { compileProxies } from "./proxy.ts";
import { SCHEMA } from "./schema.ts";
import { type Ctx, Table } from "./table.ts";
import { readErrorReason } from "./tls.ts";
import type { Config, Diagnostic } from "./types.ts";
import { compileVrrp } from "./vrrp.ts";

export { formatDiagnostic, SCHEMA };
export type { HostProbe };
export type { KeySpec, SectionSpec } from "./schema.ts";

/** Options of {@linkcode compileConfig}. */
export interface CompileOptions {
  /** The file name used in diagnostics and to resolve relative paths (certs, errorfiles). */
  file: string;
  /** Reads certificates and error files; default `Deno.readTextFileSync`. */
  readTextFile?: (path: string) => string;
  /** Host lookups that only produce warnings; default: this machine. */
  probe?: HostProbe;
}

/** A compile result: `config` is null if and only if there is at least one error. */
export interface CompileResult {
  config: Config | null;
  diagnostics: Diagnostic[];
}

/** Freezes an object graph recursively. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function syntaxError(file: string, e: unknown): Diagnostic {
  if (e instanceof TomlError) {
    const first = e.message.split("\n")[0].replace(/^Invalid TOML document:\s*/, "");
    return {
      severity: "error",
      file,
      line: e.line,
      column: e.column,
      path: "",
      message: `TOML syntax error: ${first}`,
    };
  }
  return {
    severity: "error",
    file,
    line: 0,
    column: 0,
    path: "",
    message: `TOML syntax error: ${e instanceof Error ? e.message : String(e)}`,
  };
}

/** Compiles halb.toml text; never throws on bad input. */
export function compileConfig(text: string, options: CompileOptions): CompileResult {
  const { file } = options;
  let raw: Record<string, unknown>;
  try {
    raw = parse(text);
  } catch (e) {
    return { config: null, diagnostics: [syntaxError(file, e)] };
  }
  const diags = new Diagnostics(file, new TomlLocator(text));
  const ctx: Ctx = {
    diags,
    dir: dirname(file),
    readTextFile: options.readTextFile ?? ((p) => Deno.readTextFileSync(p)),
    probe: options.probe ?? systemProbe(),
  };
  const root = new Table(ctx, [], raw, "");
  const global = compileGlobal(root.table("global"));
  const adminTable = root.table("admin");
  const admin = adminTable === null ? null : compileAdmin(adminTable);
  const { frontends, backends } = compileProxies(root);
  const vrrpTable = root.table("vrrp");
  const vrrp = vrrpTable === null ? null : compileVrrp(vrrpTable, {
    frontends: frontends.map((f) => f.name),
    hasNotify: global.notify !== null,
  });
  const diagnostics = diags.sorted();
  if (diags.hasErrors) return { config: null, diagnostics };
  const config: Config = { file, global, admin, vrrp, frontends, backends };
  return { config: deepFreeze(config), diagnostics };
}

/**
 * Reads and compiles a config file. An unreadable file gives one diagnostic at line 0
 * (`cannot read file: <reason>`). `options` are as for {@linkcode compileConfig}.
 */
export function loadConfig(
  path: string,
  options: Omit<CompileOptions, "file"> = {},
): CompileResult {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    return {
      config: null,
      diagnostics: [{
        severity: "error",
        file: path,
        line: 0,
        column: 0,
        path: "",
        message: `cannot read file: ${readErrorReason(e)}`,
      }],
    };
  }
  return compileConfig(text, { ...options, file: path });
}
