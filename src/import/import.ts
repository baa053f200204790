/**
 * `halb import`'s engine: parses a haproxy.cfg and/or a keepalived.conf, maps them onto one
 * halb.toml document and writes it. The result is then compiled with halb's own config compiler
 * (as `halb check` would, with a host where every interface, user and file exists); whatever it
 * still rejects is taken out of the document and reported as a warning at the directive it came
 * from, until the document compiles. Every input line ends up mapped or warned about.
 *
 * @module
 */

import { compileConfig } from "../config/load.ts";
import type { HostProbe } from "../config/probe.ts";
import type { Diagnostic } from "../config/types.ts";
import { mapHaproxy } from "./haproxy_map.ts";
import { parseHaproxy } from "./haproxy_parse.ts";
import { mapKeepalived } from "./keepalived_map.ts";
import { type KaFiles, parseKeepalived, systemFiles } from "./keepalived_parse.ts";
import { type ImportWarning, Ledger, type ParseError } from "./source.ts";
import { type LineOrigin, renderToml, type TomlSection } from "./toml_doc.ts";

/** One input file. */
export interface ImportSource {
  readonly file: string;
  readonly text: string;
}

/** Inputs of {@linkcode importConfigs}. */
export interface ImportOptions {
  readonly haproxy?: ImportSource;
  readonly keepalived?: ImportSource;
  /** File access for keepalived `include`; default: the real file system. */
  readonly files?: KaFiles;
}

/** The outcome: the TOML text and the warnings, or the parse errors that stopped it. */
export type ImportResult =
  | {
    readonly ok: true;
    readonly toml: string;
    readonly warnings: readonly ImportWarning[];
    /** Where each input line went (for coverage checks). */
    readonly ledger: Ledger;
    /** Problems halb's compiler still reports that could not be traced to a directive. */
    readonly unresolved: readonly Diagnostic[];
  }
  | { readonly ok: false; readonly errors: readonly ParseError[] };

const ANY_HOST: HostProbe = {
  interfaceExists: () => true,
  userExists: () => true,
  groupExists: () => true,
  executableExists: () => true,
  hostname: () => "imported",
};

/** Errors about files that live on the target machine (certificates, error files). */
function isFileError(d: Diagnostic): boolean {
  return /\.crt(\[\d+\])?$/.test(d.path) || /(^|\.)errorfile\.\d+$/.test(d.path);
}

const TWO_WORD = new Set([
  "option",
  "stats",
  "http-request",
  "http-response",
  "http-check",
  "timeout",
  "tcp-request",
]);

/** Imports the given configs into one halb.toml. */
export function importConfigs(options: ImportOptions): ImportResult {
  const ledger = new Ledger();
  const errors: ParseError[] = [];
  const sections: TomlSection[] = [];
  const texts = new Map<string, string[]>();
  let ha = null;
  let ka = null;
  if (options.haproxy !== undefined) {
    const { file, text } = options.haproxy;
    texts.set(file, text.split(/\r?\n/));
    const r = parseHaproxy(text, file);
    if (r.ok) ha = mapHaproxy(r.value, ledger);
    else errors.push(...r.errors);
  }
  if (options.keepalived !== undefined) {
    const { file, text } = options.keepalived;
    const files = options.files ?? systemFiles();
    texts.set(file, text.split(/\r?\n/));
    const r = parseKeepalived(text, file, {
      files,
      onInclude(src, paths) {
        if (paths.length === 0) ledger.warn(src, "include", "no file matches");
        else ledger.mapped(src);
        for (const p of paths) texts.set(p, files.readTextFile(p).split(/\r?\n/));
      },
    });
    if (r.ok) ka = mapKeepalived(r.value, ledger);
    else errors.push(...r.errors);
  }
  if (errors.length > 0) return { ok: false, errors };
  const globalEntries = ha?.global ?? [];
  if (globalEntries.length > 0) {
    sections.push({
      path: ["global"],
      array: false,
      entries: globalEntries,
      src: null,
      comments: [],
      trailing: null,
    });
  }
  if (ka?.notify) sections.push(ka.notify);
  if (ha?.admin) sections.push(ha.admin);
  sections.push(...(ka?.vrrp ?? []), ...(ha?.proxies ?? []));
  const inputs = [options.haproxy?.file, options.keepalived?.file].filter((f) => f !== undefined);
  const header = [`halb.toml imported by \`halb import\` from ${inputs.join(" and ")}`];
  const directiveAt = (file: string, line: number): string => {
    const words = (texts.get(file)?.[line - 1] ?? "").trim().split(/\s+/);
    return TWO_WORD.has(words[0]) ? words.slice(0, 2).join(" ") : words[0];
  };
  let unresolved: Diagnostic[] = [];
  let rendered = renderToml(header, sections);
  for (let round = 0; round < 200; round++) {
    const r = compileConfig(rendered.text, {
      file: "halb.toml",
      probe: ANY_HOST,
      readTextFile: (p) => {
        throw new Deno.errors.NotFound(p);
      },
    });
    const problems = r.diagnostics.filter((d) => d.severity === "error" && !isFileError(d));
    unresolved = [];
    let removed = false;
    for (const d of problems) {
      const origin = rendered.origins[d.line - 1] ?? null;
      if (origin === null || !remove(sections, origin)) {
        unresolved.push(d);
        continue;
      }
      removed = true;
      const src = origin.elem?.src ?? origin.entry?.src ?? origin.section.src;
      if (src !== null) {
        ledger.warn(src, directiveAt(src.file, src.line), `halb check: ${d.message}`);
      }
    }
    if (!removed) break;
    rendered = renderToml(header, sections);
  }
  return { ok: true, toml: rendered.text, warnings: ledger.warnings, ledger, unresolved };
}

/** Takes the most specific item behind a line out of the document; false if already gone. */
function remove(sections: TomlSection[], o: LineOrigin): boolean {
  const { section, entry, elem } = o;
  if (entry !== null && elem !== null && entry.elems !== null) {
    const i = entry.elems.indexOf(elem);
    if (i < 0) return false;
    entry.elems.splice(i, 1);
    if (entry.elems.length === 0) section.entries.splice(section.entries.indexOf(entry), 1);
    return true;
  }
  if (entry !== null) {
    const i = section.entries.indexOf(entry);
    if (i < 0) return false;
    section.entries.splice(i, 1);
    return true;
  }
  const i = sections.indexOf(section);
  if (i < 0) return false;
  sections.splice(i, 1);
  return true;
}
