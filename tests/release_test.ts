/**
 * Release artifacts end to end: the single-file bundle and (when a denort runtime is at hand) the
 * compiled binary each answer `version`, `check` and serve one TCP request in a short `run`;
 * `scripts/compile` stops with one clear line without a denort; the systemd unit passes
 * `systemd-analyze verify`; `scripts/install` stages binary, unit, docs and starter config.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers/net.ts";
import { askName, namedServer, sleep } from "./helpers/net.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const DENO_VERSION = Deno.version.deno;
const TARGET = Deno.build.target;
const RUN_FLAGS = ["--allow-all", "--unstable-net", "--unstable-raw-imports"];

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], options: Deno.CommandOptions = {}): Promise<Output> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { HALB_DENO: DENO, NO_COLOR: "1", ...options.env },
    ...options,
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Where a denort for this Deno and target comes from, or null. */
function denortSource(): string | null {
  const env = Deno.env.get("DENORT_BIN");
  if (env) return `DENORT_BIN=${env}`;
  const home = Deno.env.get("HOME") ?? "/root";
  const dir = Deno.env.get("DENO_DIR") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/deno`;
  const cached = `${dir}/dl/release/v${DENO_VERSION}/denort-${TARGET}.zip`;
  try {
    Deno.statSync(cached);
    return cached;
  } catch {
    return null;
  }
}

const denort = denortSource();

let bundleDir: Promise<string> | null = null;

/** Builds the bundle once per test file with `scripts/compile --bundle`; returns its directory. */
function buildBundle(): Promise<string> {
  bundleDir ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "halb-release-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const out = await run(["bash", "scripts/compile", "--bundle", "--output", `${dir}/halb.js`]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /compile: bundle written to /);
    // A launcher, as an appliance image would ship it beside a deno binary.
    const launcher = `${dir}/halb`;
    Deno.writeTextFileSync(
      launcher,
      `#!/bin/sh\nexec ${DENO} run ${RUN_FLAGS.join(" ")} ${dir}/halb.js "$@"\n`,
    );
    Deno.chmodSync(launcher, 0o755);
    return dir;
  })();
  return bundleDir;
}

/** `version`, `check` and a short `run` serving one request, for the artifact run by `argv`. */
async function smoke(argv: string[], cwd: string): Promise<void> {
  const version = await run([...argv, "version"], { cwd });
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^halb \d+\.\d+\.\d+/);
  assert.match(version.stdout, new RegExp(`target ${TARGET}`));

  const check = await run([...argv, "check", "-c", `${ROOT}config/halb.toml`], { cwd });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout + check.stderr, /configuration is valid/);

  const backend = namedServer("smoke-backend");
  const port = freePort();
  const config = `${cwd}/smoke.toml`;
  Deno.writeTextFileSync(
    config,
    `[global]\nlog = "stdout"\ngrace = "1s"\n\n[defaults]\nmode = "tcp"\n\n` +
      `[defaults.timeout]\nconnect = "2s"\nclient = "10s"\nserver = "10s"\n\n` +
      `[frontend.smoke]\nbind = ["127.0.0.1:${port}"]\ndefault_backend = "b"\n\n` +
      `[backend.b]\nserver = [{ name = "s1", address = "127.0.0.1:${backend.port}" }]\n`,
  );
  const child = new Deno.Command(argv[0], {
    args: [...argv.slice(1), "run", "-c", config],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const output = child.output();
  try {
    let answer: string | null = null;
    for (let i = 0; i < 150 && answer === null; i++) {
      answer = await askName(port).catch(() => null);
      if (answer === null) await sleep(100);
    }
    assert.equal(answer, "smoke-backend", "no answer through the frontend within 15s");
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const result = await output;
    await backend.close();
    const log = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, `halb run exited ${result.code}:\n${log}`);
    assert.match(log, /halb stopped/);
  }
}

Deno.test("bundle: scripts/compile --bundle builds a single file that passes the smoke test", async () => {
  const dir = await buildBundle();
  // Run from the temporary directory: no node_modules, deno.json or sources beside it.
  await smoke([DENO, "run", ...RUN_FLAGS, `${dir}/halb.js`], dir);
});

Deno.test({
  name: `compiled binary passes the smoke test${
    denort === null
      ? ` (ignored: no DENORT_BIN and no cached denort ${DENO_VERSION} for ${TARGET})`
      : ""
  }`,
  ignore: denort === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "halb-compiled-" });
    try {
      const started = Date.now();
      const out = await run(["bash", "scripts/compile", "--output", `${dir}/halb`]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /compile: using (denort from DENORT_BIN|Deno's cached denort)/);
      console.log(`compile took ${Date.now() - started}ms with ${denort}`);
      await smoke([`${dir}/halb`], dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `compile without any denort stops with one clear line${
    denort !== null ? " (ignored: a denort is at hand)" : ""
  }`,
  ignore: denort !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "halb-compiled-" });
    try {
      // An unusable proxy makes the download fail the same way with or without network access.
      const out = await run(["bash", "scripts/compile", "--output", `${dir}/halb`], {
        env: { HTTPS_PROXY: "http://127.0.0.1:9", HTTP_PROXY: "http://127.0.0.1:9" },
      });
      assert.equal(out.code, 1);
      assert.match(out.stdout, /asking deno to download denort/);
      const lines = out.stderr.trim().split("\n");
      assert.equal(lines.length, 1, out.stderr);
      assert.match(lines[0], /^compile: no denort runtime for .*DENORT_BIN.*deno task bundle/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("compile rejects the deno CLI as DENORT_BIN and unknown targets in one line", async () => {
  const cli = await run(["bash", "scripts/compile", "--output", "/nonexistent/halb"], {
    env: { DENORT_BIN: DENO },
  });
  assert.equal(cli.code, 1);
  assert.match(cli.stderr.trim(), /^compile: DENORT_BIN=.* is the deno CLI, not denort/);
  const target = await run(["bash", "scripts/compile", "--target", "mips"]);
  assert.equal(target.code, 2);
  assert.equal(target.stderr.trim(), "compile: unsupported target mips (x86_64, aarch64, all)");
});

const haveAnalyze = (() => {
  try {
    return new Deno.Command("systemd-analyze", { args: ["--version"] }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: `systemd unit passes systemd-analyze verify${
    haveAnalyze ? "" : " (ignored: systemd-analyze not installed)"
  }`,
  ignore: !haveAnalyze,
  async fn() {
    const unit = Deno.readTextFileSync(`${ROOT}config/halb.service`);
    assert.match(unit, /^Type=notify$/m);
    assert.match(unit, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    const caps = "CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE";
    assert.match(unit, new RegExp(`^AmbientCapabilities=${caps}$`, "m"));
    assert.match(unit, new RegExp(`^CapabilityBoundingSet=${caps}$`, "m"));
    // verify checks that ExecStart's binary exists: point it at a stand-in, change nothing else.
    const dir = await Deno.makeTempDir({ prefix: "halb-unit-" });
    try {
      const standIn = `${dir}/halb`;
      Deno.writeTextFileSync(standIn, "#!/bin/sh\nexit 0\n");
      Deno.chmodSync(standIn, 0o755);
      Deno.writeTextFileSync(
        `${dir}/halb.service`,
        unit.replaceAll("/usr/local/bin/halb", standIn),
      );
      const out = await run(["systemd-analyze", "verify", `${dir}/halb.service`]);
      // verify exits 0 even for unknown keys or bad values, which it only prints: demand silence.
      const complaints = (out.stdout + out.stderr).split("\n").filter((l) => l.includes("halb"));
      assert.deepEqual(complaints, []);
      assert.equal(out.code, 0, out.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("install: --dry-run changes nothing; --prefix stages everything and keeps a config", async () => {
  const bundle = await buildBundle();
  const prefix = await Deno.makeTempDir({ prefix: "halb-install-" });
  try {
    const args = ["bash", "scripts/install", "--prefix", prefix, "--binary", `${bundle}/halb`];
    const dry = await run([...args, "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would run: install -D -m 0755 .*\/usr\/local\/bin\/halb/);
    assert.match(dry.stdout, /not creating the halb user/);
    assert.deepEqual([...Deno.readDirSync(prefix)], []);

    const real = await run(args);
    assert.equal(real.code, 0, real.stdout + real.stderr);
    assert.match(real.stdout, /configuration is valid/);
    for (const path of ["usr/local/bin/halb", "etc/systemd/system/halb.service"]) {
      assert.ok(Deno.statSync(`${prefix}/${path}`).isFile, path);
    }
    assert.ok(Deno.statSync(`${prefix}/usr/local/share/doc/halb/configuration.md`).isFile);
    const config = `${prefix}/etc/halb/halb.toml`;
    assert.equal(Deno.statSync(config).mode! & 0o777, 0o640);

    Deno.writeTextFileSync(config, "# edited by the operator\n", { append: true });
    const again = await run(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /keeping the existing/);
    assert.match(Deno.readTextFileSync(config), /# edited by the operator/);
  } finally {
    await Deno.remove(prefix, { recursive: true });
  }
});

Deno.test("install: a missing binary is one clear line", async () => {
  const out = await run([
    "bash",
    "scripts/install",
    "--prefix",
    "/nonexistent",
    "--binary",
    "/no/halb",
  ]);
  assert.equal(out.code, 1);
  assert.match(out.stderr.trim(), /^install: no halb binary at \/no\/halb: build it with/);
});
