/**
 * `halb import` over the corpus in testdata/import: every config imports to TOML that the
 * config compiler accepts without errors (on a host where the certificates and error files the
 * configs name exist), no directive line is dropped silently (each is mapped or warned about),
 * a few outputs match golden files, and the CLI's exit codes and warning format hold.
 * Regenerate the golden files with `HALB_UPDATE_GOLDEN=1`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { TEST_PROBE } from "../src/config/_testing.ts";
import { compileConfig, formatDiagnostic } from "../src/config/load.ts";
import { runImport } from "../src/cli/import.ts";
import { importConfigs, type ImportResult } from "../src/import/import.ts";
import type { KaFiles } from "../src/import/keepalived_parse.ts";
import { formatWarning } from "../src/import/source.ts";

const DIR = fromFileUrl(new URL("./testdata/import/", import.meta.url));
const CERT = Deno.readTextFileSync(
  fromFileUrl(new URL("./testdata/valid/certs/web.pem", import.meta.url)),
);
const ERROR_PAGE = "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\nbusy\n";

/** Corpus files resolved against DIR (file names in results stay relative, hence stable). */
const FILES: KaFiles = {
  readTextFile: (p) => Deno.readTextFileSync(join(DIR, p)),
  glob(pattern) {
    const dir = dirname(pattern);
    const re = new RegExp(
      `^${pattern.slice(dir.length + 1).replace(/\./g, "\\.").replace(/\*/g, ".*")}$`,
    );
    return [...Deno.readDirSync(join(DIR, dir))].filter((e) => re.test(e.name))
      .map((e) => join(dir, e.name)).sort();
  },
};

function corpus(): string[] {
  const names = [...Deno.readDirSync(DIR)]
    .filter((e) => e.isFile && /\.(haproxy\.cfg|keepalived\.conf)$/.test(e.name))
    .map((e) => e.name.replace(/\.(haproxy\.cfg|keepalived\.conf)$/, ""));
  return [...new Set(names)].sort();
}

function load(name: string, ext: string) {
  try {
    return { file: `${name}.${ext}`, text: Deno.readTextFileSync(join(DIR, `${name}.${ext}`)) };
  } catch {
    return undefined;
  }
}

function importCorpus(name: string): ImportResult & { ok: true } {
  const r = importConfigs({
    haproxy: load(name, "haproxy.cfg"),
    keepalived: load(name, "keepalived.conf"),
    files: FILES,
  });
  if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.errors)}`);
  return r;
}

/** Compiles as `halb check` would on the target host: certificates and error files exist. */
function check(toml: string) {
  return compileConfig(toml, {
    file: join(DIR, "halb.toml"),
    probe: TEST_PROBE,
    readTextFile: (p) => p.endsWith(".pem") ? CERT : ERROR_PAGE,
  });
}

Deno.test("the corpus has at least 15 real-world configs", () => {
  assert.ok(corpus().length >= 15, `only ${corpus().length}`);
});

for (const name of corpus()) {
  Deno.test(`import ${name}: the TOML passes halb check`, () => {
    const r = importCorpus(name);
    assert.deepEqual(r.unresolved, []);
    const errors = check(r.toml).diagnostics.filter((d) => d.severity === "error");
    assert.deepEqual(errors.map(formatDiagnostic), [], r.toml);
  });

  Deno.test(`import ${name}: every directive line is mapped or warned about`, () => {
    const r = importCorpus(name);
    for (const file of r.ledger.files()) {
      const lines = Deno.readTextFileSync(join(DIR, file)).split("\n");
      const fate = r.ledger.lines(file);
      const missed = lines
        .map((text, i) => ({ line: i + 1, text: text.trim() }))
        .filter(({ text }) => text !== "" && !/^[#!]/.test(text) && !/^[{}]+$/.test(text))
        .filter(({ line }) => !fate.has(line))
        .map(({ line, text }) => `${file}:${line}: ${text}`);
      assert.deepEqual(missed, []);
    }
  });
}

for (const name of ["00_seed", "08_multi_defaults", "11_keepalived_unicast", "16_web_pair"]) {
  Deno.test(`import ${name}: matches the golden file`, () => {
    const r = importCorpus(name);
    const out = r.toml + "\n# warnings:\n" +
      r.warnings.map((w) => `# ${formatWarning(w)}\n`).join("");
    const golden = join(DIR, `${name}.golden.toml`);
    if (Deno.env.get("HALB_UPDATE_GOLDEN") === "1") Deno.writeTextFileSync(golden, out);
    assert.equal(out, Deno.readTextFileSync(golden));
  });
}

Deno.test("import is deterministic", () => {
  for (const name of corpus()) assert.equal(importCorpus(name).toml, importCorpus(name).toml);
});

Deno.test("the seed import keeps the spec example's routing keys", () => {
  const r = importCorpus("00_seed");
  const config = check(r.toml).config!;
  const main = config.frontends.find((f) => f.name === "main")!;
  assert.deepEqual(main.useBackend.map((u) => [u.backend, u.cond?.text]), [
    ["test1", "is_test1 || host_t1"],
    ["test2", "is_test2"],
  ]);
  assert.equal(main.binds[1].tls?.certificates.length, 1);
  const nginx = config.backends.find((b) => b.name === "nginx")!;
  assert.deepEqual(nginx.servers.map((s) => [s.name, s.weight, s.backup]), [
    ["web1", 1, false],
    ["web3", 2, false],
    ["spare", 1, true],
  ]);
  assert.equal(nginx.healthCheck.expectStatus?.text, "200-399");
  assert.equal(config.admin?.socket, "/run/halb.sock");
  assert.equal(config.vrrp?.instances[0].preempt, false);
  assert.equal(config.vrrp?.scripts[0].weight, -2);
});

Deno.test("multiple defaults sections resolve per proxy", () => {
  const config = check(importCorpus("08_multi_defaults").toml).config!;
  const be = (n: string) => config.backends.find((b) => b.name === n)!;
  const fe = (n: string) => config.frontends.find((f) => f.name === n)!;
  assert.equal(be("site_app").mode, "http");
  assert.equal(be("site_app").timeout.server, 30_000);
  assert.equal(be("pg").mode, "tcp");
  assert.equal(be("pg").retries, 2);
  assert.equal(be("pg").servers[0].inter, 2000, "db defaults have no default-server");
  assert.equal(be("reports").timeout.server, 300_000, "defaults webslow from web");
  assert.equal(be("reports").servers[0].inter, 5000, "default-server inherited through from");
  assert.equal(fe("pg").timeout.client, 7_200_000);
  assert.equal(fe("reports-in").timeout.client, 30_000);
  assert.equal(fe("pg").logStyle, "tcplog");
  assert.equal(fe("site").logStyle, "httplog");
});

Deno.test("unsupported fetches are taken out with a located warning", () => {
  const r = importCorpus("06_http_routing");
  const w = r.warnings.find((x) => x.why.startsWith("halb check:"));
  assert.ok(w !== undefined);
  assert.equal(`${w.src.file}:${w.src.line}`, "06_http_routing.haproxy.cfg:24");
  assert.equal(w.directive, "http-request set-header");
  assert.ok(!r.toml.includes("date()"));
});

Deno.test("del-header -m becomes name_match", () => {
  const r = importCorpus("06_http_routing");
  assert.match(r.toml, /\{ action = "del-header", name = "\^x-aspnet", name_match = "reg" \}/);
  assert.match(r.toml, /\{ action = "del-header", name = "Proxy" \}/);
});

Deno.test("cookie maxidle/maxlife are carried over", () => {
  const r = importCorpus("14_cookie_persistence");
  assert.match(r.toml, /maxidle = "30m", maxlife = "8h"/);
  assert.ok(!r.warnings.some((w) => w.directive === "cookie"), JSON.stringify(r.warnings));
});

Deno.test("LVS virtual_server gives one warning for the whole block", () => {
  const r = importCorpus("10_keepalived_sample");
  const vs = r.warnings.filter((w) => w.directive === "virtual_server" || w.src.line > 36);
  assert.equal(vs.length, 1);
  assert.equal(r.ledger.lines("10_keepalived_sample.keepalived.conf").get(52), "warned");
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

Deno.test("CLI: prints TOML, warns FILE:LINE: directive: cannot be mapped (why), exit 0", async () => {
  const c = capture();
  const code = await runImport(["--haproxy", join(DIR, "05_redis_master.haproxy.cfg")], c.io);
  assert.equal(code, 0);
  assert.match(c.out.join("\n"), /\[backend\.bk_redis\]/);
  assert.ok(
    c.err.includes(
      `${join(DIR, "05_redis_master.haproxy.cfg")}:18: tcp-check connect: cannot be mapped ` +
        "(halb checks servers with a TCP connect or an HTTP request only)",
    ),
    c.err.join("\n"),
  );
});

Deno.test("CLI: -o writes the file", async () => {
  const out = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    const c = capture();
    const code = await runImport([
      "--keepalived",
      join(DIR, "13_keepalived_ipv6_ah.keepalived.conf"),
      "-o",
      out,
    ], c.io);
    assert.equal(code, 0);
    assert.deepEqual(c.out, []);
    assert.match(Deno.readTextFileSync(out), /\[\[vrrp\.instance\]\]/);
  } finally {
    await Deno.remove(out);
  }
});

Deno.test("CLI: bad usage and bad input exit 2", async () => {
  let c = capture();
  assert.equal(await runImport([], c.io), 2);
  assert.match(c.err[0], /give --haproxy FILE and\/or --keepalived FILE/);
  c = capture();
  assert.equal(await runImport(["--bogus"], c.io), 2);
  c = capture();
  assert.equal(await runImport(["--haproxy", "/nonexistent/haproxy.cfg"], c.io), 2);
  assert.match(c.err[0], /cannot read \/nonexistent\/haproxy\.cfg/);
  const bad = await Deno.makeTempFile();
  try {
    Deno.writeTextFileSync(bad, 'global\n  log "/dev/log local0\n');
    c = capture();
    assert.equal(await runImport(["--haproxy", bad], c.io), 2);
    assert.equal(c.err[0], `${bad}:2: unterminated double quote`);
    Deno.writeTextFileSync(bad, "vrrp_instance X {\n  state MASTER\n");
    c = capture();
    assert.equal(await runImport(["--keepalived", bad], c.io), 2);
    assert.equal(c.err[0], `${bad}:1: unclosed { of "vrrp_instance"`);
  } finally {
    await Deno.remove(bad);
  }
  c = capture();
  assert.equal(await runImport(["--help"], c.io), 0);
  assert.match(c.out[0], /^Usage: halb import/);
});
