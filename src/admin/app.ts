/**
 * The Hono admin app served on `[admin] bind`:
 *
 * - `GET <stats_uri>`: the HTML stats page; `;csv` or `?format=csv` gives HAProxy's CSV, `;json`
 *   or `?format=json` the {@linkcode StatsModel}; `;st=CODE` announces an admin action's result.
 * - `GET <stats_uri>/events`: server-sent events every `refresh` (default 2 s): `stats` events
 *   carry the JSON model; with `?view=html`, `html` events carry the page's live fragment.
 * - `POST <stats_uri>`: HAProxy's admin form (`b`, `s`..., `action=ready|drain|maint`, plus
 *   halb's `action=weight&w=N`), answered `303 See Other` to `<stats_uri>;st=CODE`.
 * - `POST /api/command` (runtime API line in the body, text answer), `POST
 *   /api/servers/<backend>/<server>` (`{"action": "ready"|"drain"|"maint"}` or `{"weight": N}`),
 *   `POST /api/reload`: 403 unless `allow_changes` (commands that only read are always allowed).
 * - `GET /metrics`: Prometheus text format. `GET /healthz`: `OK`, never behind authentication.
 *
 * Everything but `/healthz` requires Basic authentication when `auth` lists users (compared in
 * constant time); a failure answers HAProxy's 401 page with `WWW-Authenticate: Basic
 * realm="<realm>"`. With no users configured the app is open.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { Context, Next } from "hono";
import { streamSSE } from "hono/streaming";
import type { AdminConfig } from "../config/types.ts";
import { statsCsv } from "./csv.ts";
import { METRICS_CONTENT_TYPE, metricsText } from "./metrics.ts";
import type { AdminSource, ServerAction } from "./model.ts";
import { renderPage, renderStats } from "./page.ts";
import { executeLine, newSession, parseCommand, splitLine } from "./runtime_api.ts";

/** Options of {@linkcode createAdminApp}. */
export interface AdminAppOptions {
  /** SSE push period in ms; default `refresh`, else 2000. */
  pushIntervalMs?: number;
  /** Aborting it ends the open SSE streams (so that a server shutdown completes). */
  signal?: AbortSignal;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/** HAProxy's 401 page (112 bytes). */
export const UNAUTHORIZED_BODY = "<html><body><h1>401 Unauthorized</h1>\n" +
  "You need a valid user and password to access this content.\n</body></html>\n";

const DENIED = "Permission denied: [admin] allow_changes is off\n";

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/**
 * Checks an `Authorization` header against the configured users. Every user is compared (on
 * SHA-256 digests, so lengths never differ) without an early exit.
 */
export function checkBasicAuth(
  header: string | undefined,
  users: AdminConfig["auth"],
): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  let given: string;
  try {
    given = m === null ? "" : new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)),
    );
  } catch {
    given = "";
  }
  const got = digest(given);
  let ok = false;
  for (const u of users) {
    if (timingSafeEqual(got, digest(`${u.user}:${u.password}`))) ok = true;
  }
  return ok && given !== "";
}

/** `<stats_uri>/events` (or `<stats_uri>events` when the URI ends with `/`). */
export function eventsUri(statsUri: string): string {
  return statsUri.endsWith("/") ? `${statsUri}events` : `${statsUri}/events`;
}

/** The `;`-options after the stats URI, e.g. `;csv;norefresh` → {csv, norefresh}. */
export function statsOptions(rest: string): { flags: Set<string>; st: string | null } {
  const flags = new Set<string>();
  let st: string | null = null;
  for (const part of rest.split(";").slice(1)) {
    if (part.startsWith("st=")) st = part.slice(3);
    else if (part !== "") flags.add(part);
  }
  return { flags, st };
}

function isChange(line: string): boolean {
  return splitLine(line).some((words) => {
    const kind = parseCommand(words).kind;
    return kind === "set-state" || kind === "set-weight" || kind === "reload";
  });
}

function parseAction(body: unknown): ServerAction | null {
  if (typeof body !== "object" || body === null) return null;
  const o = body as Record<string, unknown>;
  if (o.action === "ready" || o.action === "drain" || o.action === "maint") return o.action;
  if (typeof o.weight === "number") return { weight: o.weight };
  return null;
}

/** Builds the app over a source of state and actions. */
export function createAdminApp(
  config: AdminConfig,
  source: AdminSource,
  options: AdminAppOptions = {},
): Hono {
  const app = new Hono();
  const uri = config.statsUri;
  const events = eventsUri(uri);
  const period = options.pushIntervalMs ?? config.refresh ?? 2000;
  const pageOptions = { statsUri: uri, eventsUri: `${events}?view=html`, allowChanges: false };

  app.get("/healthz", (c) => c.text("OK\n"));

  app.use("*", async (c: Context, next: Next) => {
    if (config.auth.length === 0 || checkBasicAuth(c.req.header("authorization"), config.auth)) {
      return await next();
    }
    return c.html(UNAUTHORIZED_BODY, 401, {
      "www-authenticate": `Basic realm="${config.realm.replaceAll('"', "")}"`,
      "cache-control": "no-cache",
    });
  });

  // A browser sends Basic credentials with any form POST: refuse cross-site ones (CSRF).
  app.use("*", async (c: Context, next: Next) => {
    const origin = c.req.header("origin");
    if (c.req.method !== "POST" || origin === undefined || sameOrigin(origin, c.req.url)) {
      return await next();
    }
    return c.text("Cross-origin request refused\n", 403);
  });

  app.get(
    "/metrics",
    (c) => c.body(metricsText(source.model()), 200, { "content-type": METRICS_CONTENT_TYPE }),
  );

  app.post("/api/command", async (c) => {
    const line = (await c.req.text()).split("\n")[0];
    if (!config.allowChanges && isChange(line)) return c.text(DENIED, 403);
    const result = await executeLine(line, {
      source,
      session: newSession(),
      options: { allowChanges: config.allowChanges },
    });
    return c.text(result.parts.join(""), result.failed ? 400 : 200);
  });

  app.post("/api/servers/:backend/:server", async (c) => {
    if (!config.allowChanges) return c.json({ ok: false, error: DENIED.trim() }, 403);
    const action = parseAction(await c.req.json().catch(() => null));
    if (action === null) {
      return c.json({
        ok: false,
        error: 'expected {"action": "ready"|"drain"|"maint"} or {"weight": 0..256}',
      }, 400);
    }
    const error = source.serverAction(c.req.param("backend"), c.req.param("server"), action);
    if (error === null) return c.json({ ok: true });
    return c.json({ ok: false, error }, error.startsWith("No such") ? 404 : 400);
  });

  app.post("/api/reload", async (c) => {
    if (!config.allowChanges) return c.json({ ok: false, errors: [DENIED.trim()] }, 403);
    const result = await source.reload();
    return c.json(result, result.ok ? 200 : 422);
  });

  app.get(events, (c) => {
    const html = c.req.query("view") === "html";
    const render = () => {
      const model = source.model();
      return html
        ? renderStats(model, { ...pageOptions, allowChanges: config.allowChanges })
        : JSON.stringify(model);
    };
    return streamSSE(c, async (stream) => {
      const { signal } = options;
      while (!stream.aborted && !stream.closed && !signal?.aborted) {
        await stream.writeSSE({ event: html ? "html" : "stats", data: render() });
        await pause(period, signal);
      }
    });
  });

  app.post("*", async (c) => {
    if (statsRest(c.req.url, uri) === null) return c.notFound();
    if (!config.allowChanges) return c.text(DENIED, 403);
    const form = await c.req.parseBody({ all: true }).catch(() => ({} as Record<string, unknown>));
    const status = applyForm(form, source);
    return c.body(null, 303, { location: `${uri};st=${status}`, "cache-control": "no-cache" });
  });

  app.get("*", (c) => {
    const rest = statsRest(c.req.url, uri);
    if (rest === null) return c.notFound();
    const { flags, st } = statsOptions(rest);
    const format = c.req.query("format");
    if (flags.has("csv") || format === "csv") {
      return c.text(statsCsv(source.model()), 200, { "cache-control": "no-cache" });
    }
    if (flags.has("json") || format === "json") {
      return c.json(source.model(), 200, { "cache-control": "no-cache" });
    }
    return c.html(
      renderPage(source.model(), { ...pageOptions, allowChanges: config.allowChanges, status: st }),
      200,
      { "cache-control": "no-cache" },
    );
  });

  return app;
}

function sameOrigin(origin: string, url: string): boolean {
  try {
    return new URL(origin).host === new URL(url).host;
  } catch {
    return false;
  }
}

/** What follows the stats URI in a request URI (path and query, as HAProxy matches), or null. */
function statsRest(url: string, uri: string): string | null {
  const u = new URL(url);
  const full = u.pathname + u.search;
  return full.startsWith(uri) ? full.slice(uri.length) : null;
}

function formValues(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === "string");
}

/** Applies HAProxy's admin form; returns the `st=` code (DONE, PART, NONE, ERRP). */
function applyForm(form: Record<string, unknown>, source: AdminSource): string {
  const [backend] = formValues(form.b);
  const [verb] = formValues(form.action);
  const servers = formValues(form.s);
  let action: ServerAction;
  if (verb === "ready" || verb === "drain" || verb === "maint") {
    action = verb;
  } else if (verb === "weight") {
    const [w] = formValues(form.w);
    if (w === undefined || !/^\d+$/.test(w)) return "ERRP";
    action = { weight: Number(w) };
  } else {
    return "ERRP";
  }
  if (backend === undefined) return "ERRP";
  if (servers.length === 0) return "NONE";
  let done = 0;
  for (const s of servers) {
    if (source.serverAction(backend, s, action) === null) done++;
  }
  if (done === servers.length) return "DONE";
  return done === 0 ? "ERRP" : "PART";
}
