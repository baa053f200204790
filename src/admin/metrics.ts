/**
 * Prometheus text exposition (format 0.0.4) of a {@linkcode StatsModel}: process, frontends,
 * backends, servers and VRRP instances as `halb_*` families, each with its HELP and TYPE lines,
 * label values and help text escaped as the format requires.
 *
 * @module
 */
import type { BackendRow, FrontendRow, ServerRow, StatsModel, VrrpRow } from "./model.ts";

/** The content type of the text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Readonly<Record<string, string>>;

interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
  samples: { labels: Labels; value: number }[];
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function render(families: readonly Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      const l = labels.length > 0 ? `{${labels.join(",")}}` : "";
      out.push(`${f.name}${l} ${formatValue(s.value)}`);
    }
  }
  return out.join("\n") + "\n";
}

/** Builds families of one object kind from a list of metric definitions. */
function families<T>(
  prefix: string,
  rows: readonly T[],
  labels: (row: T) => Labels,
  defs: readonly [string, "gauge" | "counter", string, (row: T) => number | null][],
): Family[] {
  return defs.map(([name, type, help, get]) => ({
    name: `${prefix}_${name}`,
    type,
    help,
    samples: rows.flatMap((r) => {
      const v = get(r);
      return v === null ? [] : [{ labels: labels(r), value: v }];
    }),
  }));
}

/** One-hot state families: one sample per possible state, 1 for the current one. */
function stateFamily<T>(
  name: string,
  help: string,
  rows: readonly T[],
  labels: (row: T) => Labels,
  states: readonly string[],
  current: (row: T) => string,
): Family {
  return {
    name,
    type: "gauge",
    help,
    samples: rows.flatMap((r) =>
      states.map((state) => ({
        labels: { ...labels(r), state },
        value: current(r) === state ? 1 : 0,
      }))
    ),
  };
}

const SERVER_STATES = ["UP", "DOWN", "NOLB", "DRAIN", "MAINT", "NOCHECK"] as const;

/** The server's state for `halb_server_status`: the status word without its `n/m` suffix. */
function serverState(s: ServerRow): string {
  if (s.status === "no check") return "NOCHECK";
  return s.status.split(" ")[0];
}

const VRRP_STATES = ["initialize", "backup", "master", "fault", "stopped"] as const;

/** The whole exposition. */
export function metricsText(model: StatsModel): string {
  const p = model.process;
  const process: Family[] = [
    {
      name: "halb_build_info",
      type: "gauge",
      help: "halb version (always 1).",
      samples: [{ labels: { version: p.version }, value: 1 }],
    },
    gauge("halb_process_start_time_seconds", "Start time of the process.", p.startedAt / 1000),
    gauge(
      "halb_process_uptime_seconds",
      "Seconds since the process started.",
      Math.max(0, Math.floor((p.now - p.startedAt) / 1000)),
    ),
    gauge("halb_process_current_connections", "Current connections (actconn).", p.actconn),
    gauge("halb_process_max_connections", "Process connection limit (maxconn).", p.maxconn),
    {
      name: "halb_process_connections_total",
      type: "counter",
      help: "Connections accepted by all frontends.",
      samples: [{ labels: {}, value: p.cumConns }],
    },
    gauge(
      "halb_config_last_reload_successful",
      "Whether the last reload succeeded (1 when none happened).",
      p.lastReload === null || p.lastReload.ok ? 1 : 0,
    ),
  ];
  const fe = (f: FrontendRow) => ({ frontend: f.name });
  const be = (b: BackendRow) => ({ backend: b.name });
  const servers = model.backends.flatMap((b) => b.servers);
  const sv = (s: ServerRow) => ({ backend: s.backend, server: s.name });
  const vr = (v: VrrpRow) => ({ instance: v.name });
  return render([
    ...process,
    stateFamily(
      "halb_frontend_status",
      "Frontend status (1 for the current state).",
      model.frontends,
      fe,
      ["OPEN", "STOP"],
      (f) => f.status,
    ),
    ...families("halb_frontend", model.frontends, fe, [
      ["current_sessions", "gauge", "Current sessions.", (f) => f.cur],
      ["max_sessions", "gauge", "Highest number of concurrent sessions.", (f) => f.max],
      ["limit_sessions", "gauge", "Session limit (0 = none).", (f) => f.limit],
      ["sessions_total", "counter", "Sessions accepted.", (f) => f.total],
      ["current_session_rate", "gauge", "Sessions per second over the last second.", (f) => f.rate],
      ["bytes_in_total", "counter", "Bytes received from clients.", (f) => f.bytesIn],
      ["bytes_out_total", "counter", "Bytes sent to clients.", (f) => f.bytesOut],
      ["requests_denied_total", "counter", "Requests denied by rules.", (f) => f.deniedReq],
      ["responses_denied_total", "counter", "Responses denied by rules.", (f) => f.deniedResp],
      ["request_errors_total", "counter", "Invalid requests.", (f) => f.errorsReq],
      ["http_requests_total", "counter", "HTTP requests (HTTP mode).", (f) => f.requests],
    ]),
    {
      name: "halb_frontend_http_responses_total",
      type: "counter",
      help: "HTTP responses by status class (HTTP mode).",
      samples: model.frontends.flatMap((f) =>
        f.responses === null ? [] : Object.entries(f.responses).map(([code, value]) => ({
          labels: { ...fe(f), code },
          value,
        }))
      ),
    },
    stateFamily(
      "halb_backend_status",
      "Backend status (1 for the current state).",
      model.backends,
      be,
      ["UP", "DOWN"],
      (b) => b.status,
    ),
    ...families("halb_backend", model.backends, be, [
      ["active_servers", "gauge", "Usable active servers.", (b) => b.activeServers],
      ["backup_servers", "gauge", "Usable backup servers.", (b) => b.backupServers],
      ["weight", "gauge", "Total effective weight of the load-balancing set.", (b) => b.weight],
      ["current_sessions", "gauge", "Current sessions.", (b) => b.cur],
      ["max_sessions", "gauge", "Highest number of concurrent sessions.", (b) => b.max],
      ["sessions_total", "counter", "Sessions handled.", (b) => b.total],
      ["current_session_rate", "gauge", "Sessions per second over the last second.", (b) => b.rate],
      ["current_queue", "gauge", "Connections waiting in the backend queue.", (b) => b.queueCur],
      ["max_queue", "gauge", "Highest backend queue length.", (b) => b.queueMax],
      ["bytes_in_total", "counter", "Bytes sent to servers.", (b) => b.bytesIn],
      ["bytes_out_total", "counter", "Bytes received from servers.", (b) => b.bytesOut],
      ["connection_errors_total", "counter", "Failed server connections.", (b) => b.connectErrors],
      ["response_errors_total", "counter", "Response errors.", (b) => b.responseErrors],
      ["retry_warnings_total", "counter", "Connection retries.", (b) => b.retries],
      ["redispatch_warnings_total", "counter", "Redispatches.", (b) => b.redispatches],
    ]),
    stateFamily(
      "halb_server_status",
      "Server status (1 for the current state).",
      servers,
      sv,
      SERVER_STATES,
      serverState,
    ),
    ...families("halb_server", servers, sv, [
      ["weight", "gauge", "Effective weight.", (s) => s.weight],
      ["user_weight", "gauge", "Weight set by the user or the config.", (s) => s.uweight],
      ["current_sessions", "gauge", "Current sessions.", (s) => s.cur],
      ["max_sessions", "gauge", "Highest number of concurrent sessions.", (s) => s.max],
      ["limit_sessions", "gauge", "Session limit (0 = none).", (s) => s.limit],
      ["sessions_total", "counter", "Sessions handled.", (s) => s.total],
      ["current_session_rate", "gauge", "Sessions per second over the last second.", (s) => s.rate],
      ["current_queue", "gauge", "Connections waiting for this server.", (s) => s.queueCur],
      ["max_queue", "gauge", "Highest queue length.", (s) => s.queueMax],
      ["bytes_in_total", "counter", "Bytes sent to the server.", (s) => s.bytesIn],
      ["bytes_out_total", "counter", "Bytes received from the server.", (s) => s.bytesOut],
      ["connection_errors_total", "counter", "Failed connections.", (s) => s.connectErrors],
      ["response_errors_total", "counter", "Response errors.", (s) => s.responseErrors],
      ["retry_warnings_total", "counter", "Connection retries.", (s) => s.retries],
      ["redispatch_warnings_total", "counter", "Redispatches away from it.", (s) => s.redispatches],
      [
        "check_failures_total",
        "counter",
        "Failed health checks.",
        (s) => s.checked ? s.chkfail : null,
      ],
      [
        "check_up_down_total",
        "counter",
        "UP to DOWN transitions.",
        (s) => s.checked ? s.chkdown : null,
      ],
      [
        "check_duration_seconds",
        "gauge",
        "Duration of the last health check.",
        (s) => s.check?.durationMs != null ? s.check.durationMs / 1000 : null,
      ],
      [
        "last_change_seconds",
        "gauge",
        "Seconds since the last state change.",
        (s) => s.lastChangeSec,
      ],
      ["downtime_seconds_total", "counter", "Total time spent DOWN.", (s) => s.downtimeSec],
    ]),
    stateFamily(
      "halb_vrrp_instance_state",
      "VRRP instance state (1 for the current state).",
      model.vrrp,
      vr,
      VRRP_STATES,
      (v) => v.state,
    ),
    ...families("halb_vrrp_instance", model.vrrp, vr, [
      ["priority", "gauge", "Configured priority.", (v) => v.priority],
      ["effective_priority", "gauge", "Priority after tracking.", (v) => v.effectivePriority],
      ["vips", "gauge", "Virtual IPs currently held.", (v) => v.vips.length],
      ["adverts_sent_total", "counter", "Advertisements sent.", (v) => v.advertsSent],
      ["adverts_received_total", "counter", "Advertisements received.", (v) => v.advertsReceived],
      [
        "last_transition_timestamp_seconds",
        "gauge",
        "Time of the last state change.",
        (v) => v.lastTransition === null ? null : v.lastTransition / 1000,
      ],
    ]),
    {
      name: "halb_vrrp_instance_drops_total",
      type: "counter",
      help: "Received packets dropped, by reason.",
      samples: model.vrrp.flatMap((v) =>
        Object.entries(v.drops).map(([reason, value]) => ({ labels: { ...vr(v), reason }, value }))
      ),
    },
  ]);
}

function gauge(name: string, help: string, value: number): Family {
  return { name, type: "gauge", help, samples: [{ labels: {}, value }] };
}
