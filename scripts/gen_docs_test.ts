/**
 * Tests for the docs generator: the committed docs/configuration.md and docs/halb.schema.json
 * are exactly what the generator makes from the compiler's SCHEMA; every key is documented; and
 * the JSON Schema accepts the valid test configs and rejects what the compiler rejects.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { SCHEMA } from "../src/config/load.ts";
import {
  buildJsonSchema,
  CONFIGURATION_MD,
  generatedFiles,
  type JsonSchema,
  keyDoc,
  renderConfigurationMd,
  ROOT,
} from "./gen_docs.ts";

/** A minimal JSON Schema validator for the keywords gen_docs emits; returns the failures. */
function validate(schema: JsonSchema, value: unknown, root: JsonSchema, at = "$"): string[] {
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.replace("#/$defs/", "");
    const target = (root.$defs as Record<string, JsonSchema>)[name];
    if (target === undefined) return [`${at}: unknown $ref ${schema.$ref}`];
    return validate(target, value, root, at);
  }
  if (Array.isArray(schema.anyOf)) {
    const ok = (schema.anyOf as JsonSchema[]).some((s) =>
      validate(s, value, root, at).length === 0
    );
    return ok ? [] : [`${at}: matches none of anyOf`];
  }
  const errors: string[] = [];
  const type = schema.type;
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  const typeOk = type === undefined ||
    (type === "string" && typeof value === "string") ||
    (type === "integer" && typeof value === "number" && Number.isInteger(value)) ||
    (type === "boolean" && typeof value === "boolean") ||
    (type === "array" && Array.isArray(value)) ||
    (type === "object" && isObject);
  if (!typeOk) return [`${at}: expected ${type}, found ${JSON.stringify(value)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    errors.push(`${at}: ${JSON.stringify(value)} not in enum`);
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) errors.push(`${at}: < min`);
    if (typeof schema.maximum === "number" && value > schema.maximum) errors.push(`${at}: > max`);
  }
  if (typeof value === "string" && typeof schema.pattern === "string") {
    if (!new RegExp(schema.pattern, "u").test(value)) errors.push(`${at}: pattern mismatch`);
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((v, i) =>
      errors.push(...validate(schema.items as JsonSchema, v, root, `${at}[${i}]`))
    );
  }
  if (isObject) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in obj)) errors.push(`${at}: missing ${key}`);
    }
    for (const [key, v] of Object.entries(obj)) {
      const sub: unknown = props[key] ?? schema.additionalProperties;
      if (sub === false) errors.push(`${at}.${key}: unknown key`);
      else if (sub !== undefined && sub !== true) {
        errors.push(...validate(sub as JsonSchema, v, root, `${at}.${key}`));
      }
    }
  }
  return errors;
}

function validConfigs(): string[] {
  const dir = `${ROOT}tests/testdata/valid`;
  const files = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".toml"))
    .map((e) => `${dir}/${e.name}`);
  return [...files, `${ROOT}config/halb.toml`];
}

Deno.test("docs/configuration.md and docs/halb.schema.json are up to date with SCHEMA", async () => {
  for (const [path, text] of Object.entries(await generatedFiles())) {
    const current = Deno.readTextFileSync(ROOT + path);
    assert.ok(
      current === text,
      `${path} is out of date: run \`deno run -A scripts/gen_docs.ts\``,
    );
  }
});

Deno.test("every schema key is documented with a description", () => {
  const md = renderConfigurationMd();
  for (const [section, keys] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(keys)) {
      assert.notEqual(keyDoc(section, key, spec), "", `${section}.${key} has no description`);
      assert.ok(md.includes(`| \`${key}\` |`), `${CONFIGURATION_MD} lacks ${section}.${key}`);
    }
  }
});

Deno.test("the JSON Schema accepts every valid test config and the spec example", () => {
  const schema = buildJsonSchema();
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  const files = validConfigs();
  const spec = `${ROOT}../shared/spec/halb.example.toml`;
  try {
    Deno.statSync(spec);
    files.push(spec);
  } catch {
    // the spec lives beside the repository only in a workspace; its copy is in testdata/valid
  }
  assert.ok(files.length >= 5, `found only ${files.length} configs`);
  for (const file of files) {
    const errors = validate(schema, parse(Deno.readTextFileSync(file)), schema);
    assert.deepEqual(errors, [], file);
  }
});

Deno.test("the JSON Schema rejects unknown keys, wrong types, bare durations and ranges", () => {
  const schema = buildJsonSchema();
  const cases: [string, string][] = [
    ["unknown top-level key", `[globl]\nmaxconn = 1`],
    ["unknown nested key", `[backend.b]\nserver = [{ name = "a", address = "x:1", wieght = 2 }]`],
    ["missing required", `[backend.b]\nserver = [{ name = "a" }]`],
    ["wrong type", `[global]\nmaxconn = "many"`],
    ["bare-number duration", `[defaults.timeout]\nconnect = 5000`],
    ["bad duration unit", `[defaults.timeout]\nconnect = "5 parsecs"`],
    ["out of range", `[[vrrp.instance]]\nname="a"\ninterface="lo"\nvirtual_router_id=300`],
    ["bad enum", `[global]\nlog_level = "loud"`],
    ["bad bind entry", `[frontend.f]\nbind = [1]`],
  ];
  for (const [what, toml] of cases) {
    const errors = validate(schema, parse(toml), schema);
    assert.ok(errors.length > 0, `${what}: accepted ${JSON.stringify(toml)}`);
  }
});
