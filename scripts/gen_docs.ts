/**
 * Generates docs/configuration.md (the configuration reference) and docs/halb.schema.json (a JSON
 * Schema, draft 2020-12, for editor completion) from the config compiler's own
 * {@linkcode SCHEMA}, so that neither can drift from what `halb check` accepts.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-run scripts/gen_docs.ts   # rewrite both files
 * deno run --allow-read --allow-run scripts/gen_docs.ts --check          # exit 1 when out of date
 * ```
 *
 * @module
 */
import { SCHEMA } from "../src/config/load.ts";
import type { KeySpec, SectionSpec } from "../src/config/schema.ts";
import { formatMillis } from "../src/config/duration.ts";

/** The whole schema: section name → keys (the shape of {@linkcode SCHEMA}). */
export type Schema = Readonly<Record<string, SectionSpec>>;

/** A JSON Schema document or subschema (the subset this generator emits). */
export type JsonSchema = { [key: string]: unknown };

/** The repository root (this file's parent directory's parent). */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** Paths of the generated files, relative to the repository root. */
export const CONFIGURATION_MD = "docs/configuration.md";
/** See {@linkcode CONFIGURATION_MD}. */
export const SCHEMA_JSON = "docs/halb.schema.json";

/** The pattern every duration string matches (see src/config/duration.ts). */
export const DURATION_PATTERN = "^\\s*\\d+(\\.\\d+)?\\s*(us|ms|s|m|h|d)\\s*$";

/** Descriptions for keys the schema leaves undocumented ("section.key" → text). */
const EXTRA_DOCS: Readonly<Record<string, string>> = {
  "vrrp.instance[].garp_master_delay": "per-instance override of vrrp.garp_master_delay",
  "vrrp.instance[].garp_master_repeat": "per-instance override of vrrp.garp_master_repeat",
  "server.fastinter": "check interval while a server is changing state (rising or falling)",
  "server.downinter": "check interval while a server is DOWN",
  "cookie.indirect": "do not send the cookie to the server, only to the client",
  "cookie.nocache": "mark responses that set the cookie as not cacheable",
  "cookie.postonly": "only insert the cookie on responses to POST requests",
  "cookie.preserve": "keep a cookie the server sets instead of replacing it",
  "cookie.httponly": "add the HttpOnly attribute",
  "cookie.secure": "add the Secure attribute",
};

/** One place a section is used: the TOML path of the key holding it and how it is held. */
interface Use {
  readonly path: string;
  readonly key: KeySpec;
}

/** Sections in first-visit order from the root, each with every key path that leads to it. */
function walk(schema: Schema): Map<string, Use[]> {
  const uses = new Map<string, Use[]>();
  function visit(section: string, path: string): void {
    for (const [name, spec] of Object.entries(schema[section] ?? {})) {
      if (spec.section === undefined) continue;
      const here = path === "" ? name : `${path}.${name}`;
      const target = spec.section;
      const list = uses.get(target);
      if (list !== undefined) {
        list.push({ path: here, key: spec });
        continue;
      }
      uses.set(target, [{ path: here, key: spec }]);
      visit(target, childPath(target, here, spec));
    }
  }
  visit("", "");
  return uses;
}

function childPath(section: string, path: string, spec: KeySpec): string {
  if (section.endsWith(".*")) return `${path}.NAME`;
  if (spec.kind === "tables" || spec.kind === "any") return `${path}[]`;
  return path;
}

/** The key's documentation, falling back to {@linkcode EXTRA_DOCS}. */
export function keyDoc(section: string, key: string, spec: KeySpec): string {
  return spec.doc !== "" ? spec.doc : EXTRA_DOCS[`${section}.${key}`] ?? "";
}

function typeText(spec: KeySpec): string {
  switch (spec.kind) {
    case "strings":
      return "string[]";
    case "tables":
      return "table[]";
    case "any":
      return spec.type ?? "any";
    default:
      return spec.type ?? spec.kind;
  }
}

function defaultText(spec: KeySpec): string {
  if (spec.required) return "**required**";
  if (spec.default !== undefined) {
    return typeof spec.default === "string" ? `\`"${spec.default}"\`` : `\`${spec.default}\``;
  }
  if (spec.defaultDoc !== undefined) {
    return spec.defaultDoc.startsWith("=") ? `same as ${spec.defaultDoc.slice(1).trim()}` : spec
      .defaultDoc.replaceAll(/"[^"]*"|\[[^\]]*\]/g, (m) => `\`${m}\``);
  }
  return "none";
}

function rangeText(spec: KeySpec): string {
  const fmt = spec.kind === "duration" ? formatMillis : String;
  if (spec.min !== undefined && spec.max !== undefined) {
    return `${fmt(spec.min)}..${fmt(spec.max)}`;
  }
  if (spec.min !== undefined) return `≥ ${fmt(spec.min)}`;
  if (spec.max !== undefined) return `≤ ${fmt(spec.max)}`;
  return "";
}

function describe(section: string, key: string, spec: KeySpec): string {
  const parts = [keyDoc(section, key, spec)];
  if (spec.values !== undefined) {
    parts.push(`one of ${spec.values.map((v) => `"${v}"`).join(", ")}`);
  }
  const range = rangeText(spec);
  if (range !== "") parts.push(`range ${range}`);
  if (spec.kind === "duration" && spec.unit !== undefined) {
    parts.push(`bare numbers are rejected (write e.g. "1${spec.unit}")`);
  }
  if (spec.inert !== undefined) parts.push(`accepted with a warning: ${spec.inert}`);
  return parts.filter((p) => p !== "").join("; ").replaceAll("|", "\\|");
}

function heading(section: string, uses: readonly Use[]): string {
  if (section === "") return "Top level";
  const first = uses[0];
  if (uses.length > 1) return `\`${section}\` tables`;
  if (section.endsWith(".*")) return `\`[${first.path}.NAME]\``;
  if (first.key.kind === "tables") return `\`[[${first.path}]]\``;
  if (first.key.kind === "any") return `\`${first.path}\` entries`;
  return `\`[${first.path}]\``;
}

function sectionTable(section: string, keys: SectionSpec): string[] {
  const lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"];
  for (const [key, spec] of Object.entries(keys)) {
    const type = typeText(spec).replaceAll("|", "\\|");
    lines.push(`| \`${key}\` | ${type} | ${defaultText(spec)} | ${describe(section, key, spec)} |`);
  }
  return lines;
}

const INTRO = `# halb.toml reference

<!-- Generated by scripts/gen_docs.ts from the config compiler's schema (src/config/schema.ts).
     Do not edit by hand: run \`deno run -A scripts/gen_docs.ts\`. -->

Every key \`halb check\` accepts, with its type, default and meaning. The same table drives the
compiler, so this page cannot list a key the compiler rejects or miss one it accepts. Whether the
runtime already acts on a key is stated in the README's status table (for example, \`mode = "http"\`
frontends and \`[admin]\` are validated but not served yet). Editors can complete and check keys
with [halb.schema.json](halb.schema.json) (JSON Schema 2020-12; e.g. Taplo / Even Better TOML:
\`#:schema ./halb.schema.json\` on the first line, or a \`[[schema]]\` entry in \`.taplo.toml\`).

## Value rules

- **Durations** are strings with a unit: \`"500us"\`, \`"250ms"\`, \`"10s"\`, \`"1m"\`, \`"1h"\`, \`"1d"\`.
  A bare number is an error that suggests a unit (keepalived keys suggest \`s\`, HAProxy keys \`ms\`).
- **Addresses**: \`"10.0.0.1:80"\`, \`"[2001:db8::1]:80"\`, \`":80"\` (all IPv4), \`"*:80"\`,
  \`"[::]:80"\`, \`"unix@/run/x.sock"\`.
- **Conditions** (\`if\`, \`unless\`, \`acl\`) use HAProxy's ACL language as strings.
- Unknown keys are errors with a "did you mean" suggestion; every problem is reported at once as
  \`FILE:LINE:COL: key.path: message\`.
- \`NAME\` in a heading is a name you choose (\`[frontend.main]\`); \`[[...]]\` is an array of tables;
  "entries" are list items written as a string or an inline table.
- Frontends and backends inherit the keys of \`[defaults]\` they do not set.
`;

/** Renders docs/configuration.md from the schema. */
export function renderConfigurationMd(schema: Schema = SCHEMA): string {
  const out = [INTRO];
  const uses = walk(schema);
  const order: [string, Use[]][] = [["", []], ...uses];
  for (const [section, list] of order) {
    out.push(`## ${heading(section, list)}`, "");
    if (list.length > 1) {
      out.push(`Used by ${list.map((u) => `\`${u.path}\``).join(", ")}.`, "");
    }
    out.push(...sectionTable(section, schema[section]), "");
  }
  return out.join("\n");
}

/** The `$defs` name of a section: `frontend.*` → `frontend`, `vrrp.instance[]` → `vrrp_instance`. */
export function defName(section: string): string {
  if (section === "") return "root";
  return section.replaceAll(".*", "").replaceAll("[]", "").replaceAll(".", "_");
}

function ref(section: string): JsonSchema {
  return { $ref: `#/$defs/${defName(section)}` };
}

const STRING = { type: "string" } as const;
const STRINGS = { type: "array", items: STRING } as const;

/** A section reached through a key: a named map for `x.*`, else the table itself. */
function tableAt(section: string): JsonSchema {
  return section.endsWith(".*")
    ? { type: "object", additionalProperties: ref(section) }
    : ref(section);
}

function anySchema(spec: KeySpec): JsonSchema {
  const section = spec.section;
  switch (spec.type) {
    case "string | string[]":
      return { anyOf: [STRING, STRINGS] };
    case "boolean | table":
      if (section !== undefined) return { anyOf: [{ type: "boolean" }, ref(section)] };
      break;
    case "(string | table)[]":
      if (section !== undefined) return { type: "array", items: { anyOf: [STRING, ref(section)] } };
      break;
  }
  throw new Error(`gen_docs: no JSON Schema for type "${spec.type}" (section ${section})`);
}

/** The JSON Schema of one key. */
export function keySchema(section: string, key: string, spec: KeySpec): JsonSchema {
  let s: JsonSchema;
  switch (spec.kind) {
    case "string":
      s = spec.values !== undefined ? { type: "string", enum: [...spec.values] } : { ...STRING };
      break;
    case "integer":
      s = { type: "integer", minimum: spec.min, maximum: spec.max };
      break;
    case "boolean":
      s = { type: "boolean" };
      break;
    case "duration":
      s = { type: "string", pattern: DURATION_PATTERN };
      break;
    case "strings":
      s = { ...STRINGS };
      break;
    case "table":
      if (spec.section !== undefined) s = tableAt(spec.section);
      else if (spec.type?.endsWith("string | string[]")) {
        s = { type: "object", additionalProperties: { anyOf: [STRING, STRINGS] } };
      } else s = { type: "object", additionalProperties: STRING };
      break;
    case "tables":
      if (spec.section === undefined) throw new Error(`gen_docs: ${section}.${key} has no section`);
      s = { type: "array", items: ref(spec.section) };
      break;
    case "any":
      s = anySchema(spec);
      break;
  }
  const withDoc: JsonSchema = { description: describe(section, key, spec).replaceAll("\\|", "|") };
  for (const [k, v] of Object.entries(s)) if (v !== undefined) withDoc[k] = v;
  if (spec.default !== undefined) withDoc.default = spec.default;
  return withDoc;
}

function sectionSchema(section: string, keys: SectionSpec): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, spec] of Object.entries(keys)) {
    properties[key] = keySchema(section, key, spec);
    if (spec.required) required.push(key);
  }
  const s: JsonSchema = { type: "object", additionalProperties: false, properties };
  if (required.length > 0) s.required = required;
  return s;
}

/** Builds the JSON Schema (draft 2020-12) of halb.toml from the schema. */
export function buildJsonSchema(schema: Schema = SCHEMA): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  for (const [section, keys] of Object.entries(schema)) {
    if (section !== "") defs[defName(section)] = sectionSchema(section, keys);
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://halb.invalid/halb.schema.json",
    title: "halb.toml",
    description: "halb configuration (generated by scripts/gen_docs.ts from src/config/schema.ts)",
    ...sectionSchema("", schema[""]),
    $defs: defs,
  };
}

/** Formats `text` with `deno fmt` as the repository does (so `deno fmt --check` stays clean). */
async function denoFmt(text: string, ext: "md" | "json"): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", `--ext=${ext}`, "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`gen_docs: deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Both generated files, formatted: repository-relative path → content. */
export async function generatedFiles(schema: Schema = SCHEMA): Promise<Record<string, string>> {
  return {
    [CONFIGURATION_MD]: await denoFmt(renderConfigurationMd(schema), "md"),
    [SCHEMA_JSON]: await denoFmt(JSON.stringify(buildJsonSchema(schema), null, 2) + "\n", "json"),
  };
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  let stale = 0;
  for (const [path, text] of Object.entries(await generatedFiles())) {
    let current = "";
    try {
      current = Deno.readTextFileSync(ROOT + path);
    } catch {
      // missing: stale
    }
    if (current === text) continue;
    if (check) {
      console.error(`gen_docs: ${path} is out of date; run scripts/gen_docs.ts`);
      stale++;
    } else {
      Deno.mkdirSync(ROOT + "docs", { recursive: true });
      Deno.writeTextFileSync(ROOT + path, text);
      console.log(`gen_docs: wrote ${path}`);
    }
  }
  Deno.exit(stale > 0 ? 1 : 0);
}
