/**
 * The command line end to end: `check` on the example and on every invalid config of the corpus
 * (in-process), and `run`/`demo` as real processes for the failures a user meets first (missing
 * file, non-TOML file, port in use) and for a graceful stop.
 */
import assert from "node:assert/strict";
import { main } from "../src/cli/main.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function capture(): {
  out: string[];
  err: string[];
  io: { out(t: string): void; err(t: string): void };
} {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { out: (t) => void out.push(t), err: (t) => void err.push(t) } };
}

Deno.test("halb check accepts the spec's example (warnings allowed)", async () => {
  const c = capture();
  const code = await main(["check", "-c", "tests/testdata/valid/halb.example.toml"], c.io);
  assert.equal(code, 0, c.err.join("\n"));
  assert.match(c.out.join("\n"), /configuration is valid/);
  for (const line of c.err) assert.match(line, /: warning: /);
});

Deno.test("halb check exits 2 with the expected message for every invalid config", async () => {
  const dir = `${ROOT}tests/testdata/invalid`;
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".toml"))
    .sort();
  assert.ok(files.length >= 40, `only ${files.length} invalid configs`);
  for (const name of files) {
    const rel = `tests/testdata/invalid/${name}`;
    const expected = Deno.readTextFileSync(`${dir}/${name.replace(/\.toml$/, ".expected")}`)
      .split("\n").filter((l) => l.trim() !== "");
    const c = capture();
    const prev = Deno.cwd();
    Deno.chdir(ROOT);
    try {
      const code = await main(["check", "-c", rel], c.io);
      assert.equal(code, 2, `${name}: exit code`);
    } finally {
      Deno.chdir(prev);
    }
    for (const line of expected) {
      assert.ok(c.err.includes(line), `${name}: missing\n  ${line}\ngot:\n  ${c.err.join("\n  ")}`);
    }
    assert.match(c.err.at(-1)!, /configuration rejected$/);
  }
});

Deno.test("halb check on a missing file says so in one line and exits 2", async () => {
  const c = capture();
  const code = await main(["check", "-c", "/nonexistent/halb.toml"], c.io);
  assert.equal(code, 2);
  assert.match(c.err[0], /^\/nonexistent\/halb\.toml: cannot read file: /);
});

Deno.test("halb check on a non-TOML file points at the syntax error", async () => {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    await Deno.writeTextFile(file, "<html>\n  not toml\n</html>\n");
    const c = capture();
    assert.equal(await main(["check", "-c", file], c.io), 2);
    assert.match(c.err[0], new RegExp(`^${file}:1:\\d+: `));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("usage errors exit 2 without a stack trace", async () => {
  for (const args of [["frobnicate"], ["check", "--nope"], ["run", "extra"], []]) {
    const c = capture();
    assert.equal(await main(args, c.io), 2, args.join(" "));
    assert.ok(!c.err.join("\n").includes("    at "), "stack trace printed");
  }
  const c = capture();
  assert.equal(await main(["run", "--help"], c.io), 0);
  assert.match(c.out[0], /^Usage: halb run/);
});

Deno.test("halb version names halb, deno and the target", async () => {
  const c = capture();
  assert.equal(await main(["version"], c.io), 0);
  assert.match(c.out[0], /^halb \d+\.\d+\.\d+\ndeno 2\.\d+\.\d+ .*\ntarget \S+$/);
});

function halbProcess(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test("halb run on a port already in use gives one clear line and exit 1", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    await Deno.writeTextFile(
      file,
      `[defaults]\nmode = "tcp"\n[defaults.timeout]\nconnect = "1s"\nclient = "1s"\nserver = "1s"\n` +
        `[frontend.f]\nbind = ["127.0.0.1:${port}"]\ndefault_backend = "b"\n` +
        `[backend.b]\nserver = [{ name = "s", address = "127.0.0.1:9" }]\n`,
    );
    const child = halbProcess(["run", "-c", file]);
    const [status, , err] = await Promise.all([
      child.status,
      readAll(child.stdout),
      readAll(child.stderr),
    ]);
    assert.equal(status.code, 1, err);
    const lines = err.trim().split("\n");
    assert.equal(lines.length, 1, err);
    assert.match(lines[0], new RegExp(`frontend 'f'.*127\\.0\\.0\\.1:${port}.*in use`, "i"));
  } finally {
    busy.close();
    await Deno.remove(file);
  }
});

Deno.test("halb demo serves through both demo backends in turn and stops on SIGTERM", async () => {
  // The demo uses fixed ports (8080, 9001, 9002); skip when something else holds them.
  for (const port of [8080, 9001, 9002]) {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      console.log(`skipped: 127.0.0.1:${port} is in use`);
      return;
    }
  }
  const child = halbProcess(["demo"]);
  const stdout = readAll(child.stdout);
  const stderr = readAll(child.stderr);
  try {
    const bodies: string[] = [];
    const end = Date.now() + 15_000;
    while (bodies.length < 4 && Date.now() < end) {
      try {
        const res = await fetch("http://127.0.0.1:8080/", { headers: { connection: "close" } });
        bodies.push(await res.text());
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(bodies.length, 4, "demo did not answer");
    const names = bodies.map((b) => /Hello from (\w+)/.exec(b)?.[1]);
    assert.deepEqual(names, ["demo1", "demo2", "demo1", "demo2"]);
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  assert.equal(status.code, 0, await stderr);
  assert.match(await stdout, /halb stopped/);
});
