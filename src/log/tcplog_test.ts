import assert from "node:assert/strict";
import { formatConnectLine, formatTcpLog, type TcpLogRecord } from "./tcplog.ts";
import { formatLogDate, formatPeer } from "./format.ts";

const record: TcpLogRecord = {
  clientPeer: "127.0.0.1:49684",
  acceptDate: new Date(2026, 10, 25, 2, 50, 18, 274).getTime(),
  frontendName: "fe_tcp",
  backendName: "be_tcp",
  serverName: "s1",
  tw: 1,
  tc: 0,
  tt: 8,
  bytesToClient: 241,
  termination: "--",
  actconn: 1,
  feconn: 1,
  beconn: 0,
  srvconn: 0,
  retries: 0,
  redispatched: false,
  srvQueue: 0,
  backendQueue: 0,
};

Deno.test("tcplog: HAProxy's sample line byte for byte", () => {
  assert.equal(
    formatTcpLog(record),
    "127.0.0.1:49684 [25/Nov/2026:02:50:18.274] fe_tcp be_tcp/s1 1/0/8 241 -- 1/1/0/0/0 0/0",
  );
});

Deno.test("tcplog: <NOSRV>, -1 phases, redispatch mark and queue positions", () => {
  assert.equal(
    formatTcpLog({
      ...record,
      serverName: null,
      tw: 1001,
      tc: -1,
      tt: 1001,
      bytesToClient: 0,
      termination: "sQ",
      backendQueue: 1,
    }),
    "127.0.0.1:49684 [25/Nov/2026:02:50:18.274] fe_tcp be_tcp/<NOSRV> 1001/-1/1001 0 sQ 1/1/0/0/0 0/1",
  );
  assert.match(formatTcpLog({ ...record, retries: 3, redispatched: true }), / 1\/1\/0\/0\/\+3 /);
});

Deno.test("log date pads every field", () => {
  assert.equal(
    formatLogDate(new Date(2027, 0, 2, 3, 4, 5, 6).getTime()),
    "02/Jan/2027:03:04:05.006",
  );
  assert.equal(
    formatLogDate(new Date(2026, 11, 31, 23, 59, 59, 999).getTime()),
    "31/Dec/2026:23:59:59.999",
  );
});

Deno.test("peers: IPv4, IPv6 without brackets, unix as unix:<id>", () => {
  assert.equal(formatPeer({ transport: "tcp", hostname: "10.0.0.1", port: 80 }), "10.0.0.1:80");
  assert.equal(formatPeer({ transport: "tcp", hostname: "::1", port: 8080 }), "::1:8080");
  assert.equal(formatPeer({ transport: "unix", path: "" }, 2), "unix:2");
});

Deno.test("connect line as HAProxy logs it without tcplog", () => {
  assert.equal(
    formatConnectLine("127.0.0.1:49684", {
      localPeer: "127.0.0.1:8080",
      frontendName: "fe_tcp",
      mode: "tcp",
    }),
    "Connect from 127.0.0.1:49684 to 127.0.0.1:8080 (fe_tcp/TCP)",
  );
});
