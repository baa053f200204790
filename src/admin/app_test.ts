import assert from "node:assert/strict";
import { checkBasicAuth, createAdminApp, statsOptions, UNAUTHORIZED_BODY } from "./app.ts";
import { fakeSource, testAdminConfig } from "./_testing.ts";
import { CSV_FIELDS, csvHeader, csvValue } from "./csv.ts";
import { escapeHelp, escapeLabel } from "./metrics.ts";
import type { StatsModel } from "./model.ts";

const AUTH = [{ user: "admin", password: "s3cret" }, { user: "ops", password: "pässwörd" }];

function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

function app(overrides: Parameters<typeof testAdminConfig>[0] = {}) {
  const source = fakeSource();
  return { source, app: createAdminApp(testAdminConfig(overrides), source) };
}

Deno.test("auth: missing or wrong credentials get HAProxy's 401 page with the realm", async () => {
  const { app: a } = app({ auth: AUTH, realm: "halb stats" });
  for (
    const header of [
      undefined,
      basic("admin", "wrong"),
      basic("nobody", "s3cret"),
      "Bearer x",
      "Basic !!!",
    ]
  ) {
    const res = await a.request("/stats", { headers: header ? { authorization: header } : {} });
    assert.equal(res.status, 401, String(header));
    assert.equal(res.headers.get("www-authenticate"), 'Basic realm="halb stats"');
    const body = await res.text();
    assert.equal(body, UNAUTHORIZED_BODY);
    assert.equal(new TextEncoder().encode(body).length, 112);
  }
  for (const [u, p] of [["admin", "s3cret"], ["ops", "pässwörd"]]) {
    const res = await a.request("/stats", { headers: { authorization: basic(u, p) } });
    assert.equal(res.status, 200, u);
    await res.body?.cancel();
  }
  const metrics = await a.request("/metrics");
  assert.equal(metrics.status, 401);
  await metrics.body?.cancel();
});

Deno.test("auth: /healthz is open; no users configured means open", async () => {
  const { app: locked } = app({ auth: AUTH });
  const h = await locked.request("/healthz");
  assert.equal(h.status, 200);
  assert.equal(await h.text(), "OK\n");
  const { app: open } = app();
  const res = await open.request("/stats;csv");
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("checkBasicAuth compares every user and rejects malformed headers", () => {
  assert.equal(checkBasicAuth(basic("admin", "s3cret"), AUTH), true);
  assert.equal(checkBasicAuth(basic("admin", "s3cre"), AUTH), false);
  assert.equal(checkBasicAuth(basic("admin", "s3cret "), AUTH), false);
  assert.equal(checkBasicAuth(undefined, AUTH), false);
  assert.equal(checkBasicAuth("Basic", AUTH), false);
  assert.equal(checkBasicAuth(`Basic ${btoa("\xff\xfe")}`, AUTH), false);
  assert.equal(checkBasicAuth(basic("admin", "s3cret"), []), false);
});

Deno.test("CSV header equals HAProxy 2.6.12's fixed columns up to '-'", async () => {
  const observed = (await Deno.readTextFile(
    new URL("./testdata/haproxy_2.6.12_csv_header.txt", import.meta.url),
  )).split("\n")[0];
  const fixed = observed.slice(0, observed.indexOf(",-,") + 3);
  assert.equal(csvHeader(), fixed);
  assert.equal(CSV_FIELDS.at(-1), "-");
});

Deno.test("CSV via ;csv and ?format=csv: one row per object, every row the header's width", async () => {
  const { app: a } = app();
  for (const path of ["/stats;csv", "/stats;csv;norefresh", "/stats?format=csv"]) {
    const res = await a.request(path);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const lines = (await res.text()).trimEnd().split("\n");
    assert.equal(lines[0], csvHeader());
    const width = lines[0].slice(2).split(",").length;
    const rows = lines.slice(1).map((l) => l.split(","));
    assert.deepEqual(rows.map((r) => `${r[0]}/${r[1]}`), [
      "web/FRONTEND",
      "db/FRONTEND",
      "web/app1",
      "web/app2",
      "web/app3",
      "web/spare",
      "web/BACKEND",
      "db/db1",
      "db/BACKEND",
    ]);
    for (const r of rows) assert.equal(r.length, width);
    const col = (row: string[], name: string) => row[CSV_FIELDS.indexOf(name as never)];
    const app2 = rows[3];
    assert.equal(col(app2, "status"), "DOWN");
    assert.equal(col(app2, "check_status"), "L4CON");
    assert.equal(col(app2, "last_chk"), "Connection refused");
    assert.equal(col(app2, "check_desc"), "Layer4 connection problem");
    assert.equal(col(app2, "type"), "2");
    assert.equal(col(app2, "-"), "-");
    assert.equal(col(rows[4], "status"), "no check");
    assert.equal(col(rows[4], "check_status"), "");
    assert.equal(col(rows[0], "status"), "OPEN");
    assert.equal(col(rows[0], "hrsp_2xx"), "110");
    assert.equal(col(rows[1], "hrsp_2xx"), "");
    assert.equal(col(rows[6], "svname"), "BACKEND");
    assert.equal(col(rows[6], "act"), "2");
    assert.equal(col(rows[6], "bck"), "1");
  }
});

Deno.test("csvValue quotes only when needed", () => {
  assert.equal(csvValue("plain"), "plain");
  assert.equal(csvValue(3), "3");
  assert.equal(csvValue("a,b"), '"a,b"');
  assert.equal(csvValue('say "hi"'), '"say ""hi"""');
});

Deno.test("JSON via ;json and ?format=json is the stats model", async () => {
  const { app: a } = app();
  for (const path of ["/stats;json", "/stats?format=json"]) {
    const res = await a.request(path);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const m = await res.json() as StatsModel;
    assert.deepEqual(Object.keys(m).sort(), ["backends", "frontends", "process", "vrrp"]);
    assert.equal(m.process.pid, 4242);
    assert.deepEqual(m.backends.map((b) => b.name), ["web", "db"]);
    assert.deepEqual(m.backends[0].servers.map((s) => s.name), ["app1", "app2", "app3", "spare"]);
    assert.equal(m.backends[0].servers[1].check?.status, "L4CON");
    assert.deepEqual(m.vrrp.map((v) => [v.name, v.state]), [["VI_1", "master"], [
      "VI_2",
      "backup",
    ]]);
  }
});

/** A strict reader of the Prometheus text format 0.0.4; throws on any violation. */
function parsePrometheus(text: string): Map<string, { type: string; samples: number }> {
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  const families = new Map<string, { help: boolean; type: string; samples: number }>();
  const seen = new Set<string>();
  assert.ok(text.endsWith("\n"), "ends with a newline");
  let current: string | null = null;
  for (const [i, line] of text.slice(0, -1).split("\n").entries()) {
    const where = `line ${i + 1}: ${line}`;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      assert.match(name, NAME, where);
      const f = families.get(name) ?? { help: false, type: "", samples: 0 };
      if (kind === "HELP") {
        assert.equal(f.help, false, `duplicate HELP, ${where}`);
        assert.doesNotMatch(rest.replaceAll("\\\\", "").replaceAll("\\n", ""), /\\/, where);
        f.help = true;
      } else {
        assert.equal(f.type, "", `duplicate TYPE, ${where}`);
        assert.equal(f.samples, 0, `TYPE after samples, ${where}`);
        assert.ok(["counter", "gauge", "histogram", "summary", "untyped"].includes(rest), where);
        f.type = rest;
      }
      families.set(name, f);
      current = name;
      continue;
    }
    assert.ok(!line.startsWith("#") && line !== "", `unexpected ${where}`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `bad sample ${where}`);
    const [, name, , labelText, value] = m;
    assert.equal(name, current, `sample outside its family, ${where}`);
    const labels: string[] = [];
    let rest = labelText ?? "";
    while (rest !== "") {
      const l = /^([^=]+)="((?:[^"\\]|\\["\\n])*)"(,|$)/.exec(rest);
      assert.ok(l, `bad labels ${where}`);
      assert.match(l[1], LABEL, where);
      assert.ok(!l[1].startsWith("__"), where);
      labels.push(`${l[1]}=${l[2]}`);
      rest = rest.slice(l[0].length);
    }
    assert.equal(new Set(labels.map((l) => l.split("=")[0])).size, labels.length, where);
    assert.ok(/^(NaN|[+-]Inf|[+-]?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(value), `bad value ${where}`);
    const series = `${name}{${labels.sort().join(",")}}`;
    assert.ok(!seen.has(series), `duplicate series ${where}`);
    seen.add(series);
    families.get(name)!.samples++;
  }
  for (const [name, f] of families) {
    assert.ok(f.help && f.type !== "", `${name} lacks HELP or TYPE`);
    if (f.type === "counter") assert.match(name, /_total$/, name);
  }
  return families;
}

Deno.test("/metrics passes a strict Prometheus text-format parser", async () => {
  const { app: a } = app();
  const res = await a.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const families = parsePrometheus(text);
  for (
    const name of [
      "halb_process_current_connections",
      "halb_frontend_sessions_total",
      "halb_backend_status",
      "halb_server_status",
      "halb_server_check_failures_total",
      "halb_vrrp_instance_state",
      "halb_vrrp_instance_effective_priority",
    ]
  ) {
    assert.ok((families.get(name)?.samples ?? 0) > 0, name);
  }
  assert.match(text, /^halb_server_status\{backend="web",server="app2",state="DOWN"\} 1$/m);
  assert.match(text, /^halb_server_status\{backend="web",server="app2",state="UP"\} 0$/m);
  assert.match(text, /^halb_vrrp_instance_state\{instance="VI_1",state="master"\} 1$/m);
  assert.match(text, /^halb_vrrp_instance_drops_total\{instance="VI_2",reason="bad-auth"\} 2$/m);
  assert.match(text, /^halb_frontend_http_responses_total\{frontend="web",code="5xx"\} 1$/m);
});

Deno.test("metrics escaping of label values and help text", () => {
  assert.equal(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.equal(escapeHelp("x\\y\nz"), "x\\\\y\\nz");
});

async function firstEvent(res: Response): Promise<{ event: string; data: string }> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    for (let i = 0; i < 50 && !text.includes("\n\n"); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    await reader.cancel();
  }
  const block = text.split("\n\n")[0].split("\n");
  return {
    event: block.find((l) => l.startsWith("event: "))?.slice(7) ?? "",
    data: block.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n"),
  };
}

Deno.test("SSE: /stats/events pushes the JSON model; ?view=html pushes the page fragment", async () => {
  const { app: a } = app({ auth: AUTH });
  const headers = { authorization: basic("admin", "s3cret") };
  const res = await a.request("/stats/events", { headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const ev = await firstEvent(res);
  assert.equal(ev.event, "stats");
  assert.equal((JSON.parse(ev.data) as StatsModel).backends[0].name, "web");
  const html = await firstEvent(await a.request("/stats/events?view=html", { headers }));
  assert.equal(html.event, "html");
  assert.match(html.data, /data-server="app2"/);
  const denied = await a.request("/stats/events");
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
});

Deno.test("HTML page: rows with state classes, VRRP table, controls only with allow_changes", async () => {
  const { app: ro } = app();
  const page = await (await ro.request("/stats")).text();
  assert.match(page, /<title>Statistics Report for halb<\/title>/);
  assert.match(page, /<tr class="server up" data-server="app1">/);
  assert.match(page, /<tr class="server down" data-server="app2">/);
  assert.match(page, /<tr class="server nocheck" data-server="app3">/);
  assert.match(page, /<tr class="server backup_up" data-server="spare">/);
  assert.match(page, /L4CON in 0ms/);
  assert.match(page, /data-instance="VI_1"/);
  assert.match(page, /192\.0\.2\.10\/24/);
  assert.match(page, /data-events="\/stats\/events\?view=html"/);
  assert.doesNotMatch(page, /data-action="maint"/);
  const { app: rw } = app({ allowChanges: true });
  const admin = await (await rw.request("/stats;st=DONE")).text();
  assert.match(admin, /data-action="maint"/);
  assert.match(admin, /Action processed successfully\./);
});

Deno.test("statsOptions reads ;flags and st=", () => {
  const o = statsOptions(";csv;norefresh;st=DONE");
  assert.deepEqual([...o.flags], ["csv", "norefresh"]);
  assert.equal(o.st, "DONE");
  assert.deepEqual([...statsOptions("").flags], []);
});

Deno.test("admin form POST: 403 without allow_changes; applies and redirects with it", async () => {
  const body = () =>
    new URLSearchParams([["b", "web"], ["s", "app1"], ["s", "app3"], ["action", "maint"]]);
  const ro = app();
  const denied = await ro.app.request("/stats", { method: "POST", body: body() });
  assert.equal(denied.status, 403);
  await denied.body?.cancel();
  assert.equal(ro.source.calls.length, 0);

  const rw = app({ allowChanges: true });
  const res = await rw.app.request("/stats", { method: "POST", body: body() });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/stats;st=DONE");
  assert.deepEqual(rw.source.calls.map((c) => [c.server, c.action]), [["app1", "maint"], [
    "app3",
    "maint",
  ]]);
  assert.equal(rw.source.model().backends[0].servers[0].status, "MAINT");

  const cases: [string[][], string][] = [
    [[["b", "web"], ["s", "app1"], ["action", "weight"], ["w", "7"]], "DONE"],
    [[["b", "web"], ["s", "app1"], ["s", "nope"], ["action", "ready"]], "PART"],
    [[["b", "nope"], ["s", "app1"], ["action", "ready"]], "ERRP"],
    [[["b", "web"], ["action", "ready"]], "NONE"],
    [[["b", "web"], ["s", "app1"], ["action", "shutdown"]], "ERRP"],
    [[["b", "web"], ["s", "app1"], ["action", "weight"], ["w", "x"]], "ERRP"],
  ];
  for (const [fields, st] of cases) {
    const r = await rw.app.request("/stats", { method: "POST", body: new URLSearchParams(fields) });
    assert.equal(r.headers.get("location"), `/stats;st=${st}`, JSON.stringify(fields));
  }
  assert.equal(rw.source.model().backends[0].servers[0].uweight, 7);

  const calls = rw.source.calls.length;
  const csrf = await rw.app.request("http://127.0.0.1:8404/stats", {
    method: "POST",
    body: body(),
    headers: { origin: "https://evil.example" },
  });
  assert.equal(csrf.status, 403, "cross-origin form POST");
  await csrf.body?.cancel();
  assert.equal(rw.source.calls.length, calls);
  const same = await rw.app.request("http://127.0.0.1:8404/stats", {
    method: "POST",
    body: body(),
    headers: { origin: "http://127.0.0.1:8404" },
  });
  assert.equal(same.status, 303);
});

Deno.test("JSON server API and reload: gated, validated, and calling the source", async () => {
  const post = (a: ReturnType<typeof app>["app"], path: string, body?: unknown) =>
    a.request(path, {
      method: "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const ro = app();
  assert.equal((await post(ro.app, "/api/servers/web/app1", { action: "drain" })).status, 403);
  assert.equal((await post(ro.app, "/api/reload")).status, 403);
  assert.equal(ro.source.calls.length + ro.source.reloads, 0);

  const rw = app({ allowChanges: true });
  const ok = await post(rw.app, "/api/servers/web/app1", { action: "drain" });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { ok: true });
  assert.equal(rw.source.model().backends[0].servers[0].status, "DRAIN");
  assert.equal((await post(rw.app, "/api/servers/web/app1", { weight: 5 })).status, 200);
  assert.equal(rw.source.model().backends[0].servers[0].uweight, 5);
  const missing = await post(rw.app, "/api/servers/web/zzz", { action: "maint" });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { ok: false, error: "No such server." });
  assert.equal((await post(rw.app, "/api/servers/web/app1", { action: "explode" })).status, 400);
  assert.equal((await post(rw.app, "/api/servers/web/app1", { weight: 999 })).status, 400);

  const reload = await post(rw.app, "/api/reload");
  assert.equal(reload.status, 200);
  assert.deepEqual(await reload.json(), { ok: true, errors: [] });
  rw.source.reloadResult = { ok: false, errors: ["halb.toml:3:1: bad"] };
  const bad = await post(rw.app, "/api/reload");
  assert.equal(bad.status, 422);
  assert.deepEqual(await bad.json(), { ok: false, errors: ["halb.toml:3:1: bad"] });
  assert.equal(rw.source.reloads, 2);
});

Deno.test("POST /api/command runs runtime API lines; changes need allow_changes", async () => {
  const cmd = (a: ReturnType<typeof app>["app"], line: string) =>
    a.request("/api/command", { method: "POST", body: line });
  const ro = app();
  const get = await cmd(ro.app, "get weight web/app3");
  assert.equal(get.status, 200);
  assert.equal(await get.text(), "2 (initial 2)\n\n");
  const denied = await cmd(ro.app, "get weight web/app3;set weight web/app3 1");
  assert.equal(denied.status, 403);
  await denied.body?.cancel();
  const err = await cmd(ro.app, "get weight web/nope");
  assert.equal(err.status, 400);
  assert.equal(await err.text(), "No such server.\n\n");
  const rw = app({ allowChanges: true });
  const set = await cmd(rw.app, "set server web/app1 state maint;get weight web/app1");
  assert.equal(set.status, 200);
  assert.equal(await set.text(), "\n1 (initial 1)\n\n");
  assert.equal(rw.source.model().backends[0].servers[0].status, "MAINT");
});

Deno.test("unknown paths are 404; the stats prefix matches like HAProxy's", async () => {
  const { app: a } = app({ statsUri: "/haproxy?stats" });
  const nf = await a.request("/other");
  assert.equal(nf.status, 404);
  await nf.body?.cancel();
  const csv = await a.request("/haproxy?stats;csv");
  assert.equal((await csv.text()).split("\n")[0], csvHeader());
  const { app: b } = app();
  const res = await b.request("/stats/anything;csv");
  assert.equal(res.status, 200);
  assert.equal((await res.text()).split("\n")[0], csvHeader());
});
