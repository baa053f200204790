/**
 * HAProxy's stats CSV (`;csv`, `show stat`): the fixed columns of HAProxy 2.6 up to and including
 * the `-` column, one line per frontend, server and backend, values quoted only when needed.
 * Columns halb has no figure for are left empty, as HAProxy does for fields that do not apply.
 *
 * @module
 */
import type { BackendRow, FrontendRow, ServerRow, StatsModel } from "./model.ts";

/** HAProxy 2.6's fixed stats fields, in order, ending with the `-` marker. */
export const CSV_FIELDS = [
  "pxname",
  "svname",
  "qcur",
  "qmax",
  "scur",
  "smax",
  "slim",
  "stot",
  "bin",
  "bout",
  "dreq",
  "dresp",
  "ereq",
  "econ",
  "eresp",
  "wretr",
  "wredis",
  "status",
  "weight",
  "act",
  "bck",
  "chkfail",
  "chkdown",
  "lastchg",
  "downtime",
  "qlimit",
  "pid",
  "iid",
  "sid",
  "throttle",
  "lbtot",
  "tracked",
  "type",
  "rate",
  "rate_lim",
  "rate_max",
  "check_status",
  "check_code",
  "check_duration",
  "hrsp_1xx",
  "hrsp_2xx",
  "hrsp_3xx",
  "hrsp_4xx",
  "hrsp_5xx",
  "hrsp_other",
  "hanafail",
  "req_rate",
  "req_rate_max",
  "req_tot",
  "cli_abrt",
  "srv_abrt",
  "comp_in",
  "comp_out",
  "comp_byp",
  "comp_rsp",
  "lastsess",
  "last_chk",
  "last_agt",
  "qtime",
  "ctime",
  "rtime",
  "ttime",
  "agent_status",
  "agent_code",
  "agent_duration",
  "check_desc",
  "agent_desc",
  "check_rise",
  "check_fall",
  "check_health",
  "agent_rise",
  "agent_fall",
  "agent_health",
  "addr",
  "cookie",
  "mode",
  "algo",
  "conn_rate",
  "conn_rate_max",
  "conn_tot",
  "intercepted",
  "dcon",
  "dses",
  "wrew",
  "connect",
  "reuse",
  "cache_lookups",
  "cache_hits",
  "srv_icur",
  "src_ilim",
  "qtime_max",
  "ctime_max",
  "rtime_max",
  "ttime_max",
  "eint",
  "idle_conn_cur",
  "safe_conn_cur",
  "used_conn_cur",
  "need_conn_est",
  "uweight",
  "agg_server_status",
  "agg_server_check_status",
  "agg_check_status",
  "-",
] as const;

/** One CSV field name. */
export type CsvField = typeof CSV_FIELDS[number];

type Row = Partial<Record<CsvField, string | number>>;

/** Object types of `show stat <px> <type> <sid>`: 1 frontend, 2 backend, 4 server. */
export interface CsvFilter {
  /** Proxy name or `#iid`; null = all. */
  proxy: string | null;
  /** Bit mask: 1 frontends, 2 backends, 4 servers; -1 all. */
  types: number;
  /** Server id; -1 all. */
  sid: number;
}

/** The header line, `# pxname,...,-,`. */
export function csvHeader(): string {
  return `# ${CSV_FIELDS.join(",")},`;
}

/**
 * The whole CSV document (header and one line per object, each ending with `,` and a newline).
 * `withAddr` fills the `addr` and `algo` columns, as HAProxy's admin-level socket does.
 */
export function statsCsv(
  model: StatsModel,
  options: { filter?: CsvFilter; withAddr?: boolean } = {},
): string {
  const filter = options.filter ?? { proxy: null, types: -1, sid: -1 };
  const wants = (bit: number) => filter.types === -1 || (filter.types & bit) !== 0;
  const matches = (name: string, id: number) =>
    filter.proxy === null || filter.proxy === name || filter.proxy === `#${id}`;
  const lines = [csvHeader()];
  for (const fe of model.frontends) {
    if (wants(1) && matches(fe.name, fe.id)) lines.push(encodeRow(frontendRow(fe)));
  }
  for (const be of model.backends) {
    if (!matches(be.name, be.id)) continue;
    if (wants(4)) {
      for (const s of be.servers) {
        if (filter.sid !== -1 && s.id !== filter.sid) continue;
        lines.push(encodeRow(serverRow(be, s, options.withAddr ?? false)));
      }
    }
    if (wants(2)) lines.push(encodeRow(backendRow(be, options.withAddr ?? false)));
  }
  return lines.join("\n") + "\n";
}

/** Quotes a value only when it holds a comma, a quote or a line break. */
export function csvValue(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function encodeRow(row: Row): string {
  return CSV_FIELDS.map((f) => {
    const v = row[f];
    return v === undefined ? "" : csvValue(v);
  }).join(",") + ",";
}

function httpFields(responses: FrontendRow["responses"]): Row {
  if (responses === null) return {};
  return {
    hrsp_1xx: responses["1xx"],
    hrsp_2xx: responses["2xx"],
    hrsp_3xx: responses["3xx"],
    hrsp_4xx: responses["4xx"],
    hrsp_5xx: responses["5xx"],
    hrsp_other: responses.other,
  };
}

function frontendRow(fe: FrontendRow): Row {
  return {
    pxname: fe.name,
    svname: "FRONTEND",
    scur: fe.cur,
    smax: fe.max,
    slim: fe.limit > 0 ? fe.limit : undefined,
    stot: fe.total,
    bin: fe.bytesIn,
    bout: fe.bytesOut,
    dreq: fe.deniedReq,
    dresp: fe.deniedResp,
    ereq: fe.errorsReq,
    status: fe.status,
    pid: 1,
    iid: fe.id,
    sid: 0,
    type: 0,
    rate: fe.rate,
    rate_lim: 0,
    rate_max: fe.rateMax,
    ...httpFields(fe.responses),
    ...(fe.requests !== null ? { req_tot: fe.requests } : {}),
    mode: fe.mode,
    conn_rate: fe.rate,
    conn_rate_max: fe.rateMax,
    conn_tot: fe.total,
    dcon: 0,
    dses: 0,
    eint: 0,
    "-": "-",
  };
}

function serverRow(be: BackendRow, s: ServerRow, withAddr: boolean): Row {
  const c = s.check;
  const checked = c !== null;
  return {
    pxname: be.name,
    svname: s.name,
    qcur: s.queueCur,
    qmax: s.queueMax,
    scur: s.cur,
    smax: s.max,
    slim: s.limit > 0 ? s.limit : undefined,
    stot: s.total,
    bin: s.bytesIn,
    bout: s.bytesOut,
    dresp: 0,
    econ: s.connectErrors,
    eresp: s.responseErrors,
    wretr: s.retries,
    wredis: s.redispatches,
    status: s.status,
    weight: s.weight,
    act: s.backup ? 0 : 1,
    bck: s.backup ? 1 : 0,
    chkfail: checked ? s.chkfail : undefined,
    chkdown: checked ? s.chkdown : undefined,
    lastchg: s.lastChangeSec,
    downtime: checked ? s.downtimeSec : undefined,
    qlimit: s.queueLimit > 0 ? s.queueLimit : undefined,
    pid: 1,
    iid: be.id,
    sid: s.id,
    throttle: s.throttle ?? undefined,
    lbtot: s.total,
    type: 2,
    rate: s.rate,
    rate_max: s.rateMax,
    check_status: c ? `${c.inProgress ? "* " : ""}${c.status}` : undefined,
    check_code: c?.code ?? undefined,
    check_duration: c?.durationMs ?? undefined,
    cli_abrt: 0,
    srv_abrt: 0,
    lastsess: -1,
    last_chk: c ? c.info : undefined,
    qtime: 0,
    ctime: 0,
    rtime: 0,
    ttime: 0,
    check_desc: c?.description,
    check_rise: c?.rise,
    check_fall: c?.fall,
    check_health: c?.health,
    addr: withAddr ? s.address : undefined,
    mode: be.mode,
    connect: 0,
    reuse: 0,
    srv_icur: 0,
    qtime_max: 0,
    ctime_max: 0,
    rtime_max: 0,
    ttime_max: 0,
    eint: 0,
    idle_conn_cur: 0,
    safe_conn_cur: 0,
    used_conn_cur: 0,
    need_conn_est: 0,
    uweight: s.uweight,
    "-": "-",
  };
}

function backendRow(be: BackendRow, withAddr: boolean): Row {
  return {
    pxname: be.name,
    svname: "BACKEND",
    qcur: be.queueCur,
    qmax: be.queueMax,
    scur: be.cur,
    smax: be.max,
    stot: be.total,
    bin: be.bytesIn,
    bout: be.bytesOut,
    dreq: 0,
    dresp: 0,
    econ: be.connectErrors,
    eresp: be.responseErrors,
    wretr: be.retries,
    wredis: be.redispatches,
    status: be.status,
    weight: be.weight,
    act: be.activeServers,
    bck: be.backupServers,
    pid: 1,
    iid: be.id,
    sid: 0,
    lbtot: be.total,
    type: 1,
    rate: be.rate,
    rate_max: be.rateMax,
    cli_abrt: 0,
    srv_abrt: 0,
    lastsess: -1,
    qtime: 0,
    ctime: 0,
    rtime: 0,
    ttime: 0,
    mode: be.mode,
    algo: withAddr ? be.algo : undefined,
    connect: 0,
    reuse: 0,
    qtime_max: 0,
    ctime_max: 0,
    rtime_max: 0,
    ttime_max: 0,
    eint: 0,
    uweight: be.uweight,
    agg_server_status: 0,
    agg_server_check_status: 0,
    agg_check_status: 0,
    "-": "-",
  };
}
