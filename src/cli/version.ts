/**
 * halb's version string: its own version (from deno.json), the runtime's and the build target.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };

/** halb's version, from deno.json. */
export const HALB_VERSION: string = denoJson.version;

/** `halb version` output: one line per component. */
export function versionText(): string {
  return [
    `halb ${HALB_VERSION}`,
    `deno ${Deno.version.deno} (v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`,
    `target ${Deno.build.target}`,
  ].join("\n");
}
