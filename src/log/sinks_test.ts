import assert from "node:assert/strict";
import { createSink, formatEntry, syslogHeader } from "./sinks.ts";
import type { LogEntry } from "./logger.ts";

Deno.test("syslogHeader() computes PRI from facility and severity", () => {
  const now = new Date(2026, 10, 5, 4, 3, 2).getTime();
  const h = syslogHeader("info", { facility: 16, tag: "halb", pid: 42, now });
  assert.equal(h, "<134>Nov  5 04:03:02 halb[42]: ");
  assert.equal(syslogHeader("err", { facility: 3, tag: "x", pid: 1, now }).slice(0, 4), "<27>");
});

Deno.test("formatEntry() keeps traffic lines raw and tags events in text mode", () => {
  const t: LogEntry = { level: "info", kind: "traffic", line: "a b c" };
  const e: LogEntry = { level: "notice", kind: "event", line: "Proxy main started." };
  assert.equal(formatEntry(t, { format: "text", now: 0 }), "a b c");
  assert.equal(formatEntry(e, { format: "text", now: 0 }), "[NOTICE] Proxy main started.");
  const j = JSON.parse(formatEntry(e, { format: "json", now: 0 }));
  assert.deepEqual(j, {
    time: "1970-01-01T00:00:00.000Z",
    level: "notice",
    kind: "event",
    msg: "Proxy main started.",
  });
});

Deno.test("formatEntry() puts a traffic line's fields beside msg in JSON mode", () => {
  const t: LogEntry = {
    level: "info",
    kind: "traffic",
    line: '127.0.0.1:5 [..] fe be/s1 0/0/1/2/3 200 10 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"',
    fields: { clientPeer: "127.0.0.1:5", serverName: "s1", status: 200, redispatched: false },
  };
  const j = JSON.parse(formatEntry(t, { format: "json", now: 0 }));
  assert.equal(j.msg, t.line);
  assert.equal(j.status, 200);
  assert.equal(j.serverName, "s1");
  assert.equal(j.redispatched, false);
  assert.equal(formatEntry(t, { format: "text", now: 0 }), t.line);
});

Deno.test("syslog sinks deliver RFC 3164 datagrams over UDP and unix sockets", async () => {
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (udp.addr as Deno.NetAddr).port;
  const sink = createSink({ kind: "syslog-udp", host: "127.0.0.1", port }, {
    format: "text",
    facility: "local0",
  });
  sink.write({ level: "info", kind: "traffic", line: "hello udp" });
  const [data] = await udp.receive();
  assert.match(
    new TextDecoder().decode(data),
    /^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d halb\[\d+\]: hello udp$/,
  );
  sink.close();
  udp.close();

  const path = await Deno.makeTempFile({ suffix: ".sock" });
  await Deno.remove(path);
  const unix = Deno.listenDatagram({ transport: "unixpacket", path });
  const usink = createSink({ kind: "syslog-unix", path }, { format: "text", facility: "daemon" });
  usink.write({ level: "err", kind: "event", line: "boom" });
  const [udata] = await unix.receive();
  assert.match(new TextDecoder().decode(udata), /^<27>.* halb\[\d+\]: \[ERR\] boom$/);
  usink.close();
  unix.close();
  await Deno.remove(path);
});

Deno.test("a syslog sink whose socket is missing drops lines without throwing", () => {
  const sink = createSink({ kind: "syslog-unix", path: "/nonexistent/halb-log.sock" }, {
    format: "text",
    facility: "local0",
  });
  sink.write({ level: "info", kind: "traffic", line: "lost" });
  sink.close();
});
