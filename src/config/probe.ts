/**
 * Host lookups used only to warn at check time (interfaces, users, groups, script binaries),
 * behind an interface so that tests can make them deterministic.
 *
 * @module
 */

/** What `halb check` looks up on the machine it runs on; nothing here ever causes an error. */
export interface HostProbe {
  /** True when a network interface of that name exists. */
  interfaceExists(name: string): boolean;
  /** True when a user of that name exists. */
  userExists(name: string): boolean;
  /** True when a group of that name exists. */
  groupExists(name: string): boolean;
  /** True when `command` (a path, or a name searched in PATH) is an executable file. */
  executableExists(command: string): boolean;
  /** This machine's host name (the default VRRP router_id). */
  hostname(): string;
}

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

function namesIn(dbFile: string): Set<string> | null {
  const text = readOr(dbFile, "");
  if (text === "") return null;
  return new Set(text.split("\n").map((line) => line.split(":")[0]).filter((n) => n !== ""));
}

function isExecutableFile(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && (st.mode === null || (st.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/**
 * The real machine: /sys/class/net, /etc/passwd, /etc/group, PATH. A lookup that cannot be
 * made (no permission, no such database) answers "exists", so that it never warns wrongly.
 */
export function systemProbe(): HostProbe {
  let users: Set<string> | null | undefined;
  let groups: Set<string> | null | undefined;
  return {
    interfaceExists(name) {
      try {
        Deno.statSync(`/sys/class/net/${name}`);
        return true;
      } catch (e) {
        return !(e instanceof Deno.errors.NotFound);
      }
    },
    userExists(name) {
      users ??= namesIn("/etc/passwd");
      return users === null || users.has(name);
    },
    groupExists(name) {
      groups ??= namesIn("/etc/group");
      return groups === null || groups.has(name);
    },
    executableExists(command) {
      if (command.includes("/")) return isExecutableFile(command);
      let path: string;
      try {
        path = Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
      } catch {
        return true;
      }
      return path.split(":").some((dir) => dir !== "" && isExecutableFile(`${dir}/${command}`));
    },
    hostname() {
      try {
        return Deno.hostname();
      } catch {
        return "localhost";
      }
    },
  };
}
