/**
 * Test helpers for the config compiler: compile text with in-memory files and a fake host.
 *
 * @module
 */

import { formatDiagnostic } from "./diagnostics.ts";
import { compileConfig, type CompileResult } from "./load.ts";
import type { HostProbe } from "./probe.ts";

/**
 * A fake machine: interfaces lo/eth0/eth1, users and groups root/halb, executables in /bin and
 * /usr/bin plus true, false, killall, pidof and curl in PATH.
 */
export const TEST_PROBE: HostProbe = {
  interfaceExists: (name) => ["lo", "eth0", "eth1"].includes(name),
  userExists: (name) => ["root", "halb"].includes(name),
  groupExists: (name) => ["root", "halb"].includes(name),
  executableExists: (cmd) =>
    /^\/(usr\/)?bin\//.test(cmd) || ["true", "false", "killall", "pidof", "curl"].includes(cmd),
  hostname: () => "testhost",
};

/** Standard timeouts, to keep "missing timeouts" warnings out of tests that don't test them. */
export const TIMEOUTS = `
[defaults.timeout]
connect = "5s"
client = "30s"
server = "30s"
`;

/** Compiles `text` as `/etc/halb/halb.toml` with `files` (absolute path → content) readable. */
export function compile(
  text: string,
  files: Readonly<Record<string, string>> = {},
): CompileResult & { lines: string[] } {
  const result = compileConfig(text, {
    file: "/etc/halb/halb.toml",
    probe: TEST_PROBE,
    readTextFile: (path) => {
      const content = files[path];
      if (content === undefined) throw new Deno.errors.NotFound(path);
      return content;
    },
  });
  return {
    ...result,
    lines: result.diagnostics.map((d) => formatDiagnostic(d).replace("/etc/halb/halb.toml:", "")),
  };
}
