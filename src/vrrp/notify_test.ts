import assert from "node:assert/strict";
import type { NotifyConfig } from "../config/types.ts";
import { createLogger, memorySink } from "../log/logger.ts";
import { instanceConfig } from "./testdata/instance_config.ts";
import { alertMail, mailDate, notifyCommands, NotifyQueue, sendMail } from "./notify.ts";

Deno.test("notifyCommands: the state's script, then notify with keepalived's 4 args", () => {
  const cfg = instanceConfig({ notifyMaster: "/m.sh x", notifyBackup: "/b.sh", notify: "/n.sh" });
  assert.deepEqual(notifyCommands(cfg, { instance: "VI_1", state: "MASTER", priority: 150 }), [
    ["/m.sh x", []],
    ["/n.sh", ["INSTANCE", "VI_1", "MASTER", "150"]],
  ]);
  assert.deepEqual(notifyCommands(cfg, { instance: "VI_1", state: "STOP", priority: 150 }), [
    ["/n.sh", ["INSTANCE", "VI_1", "STOP", "150"]],
  ]);
});

Deno.test("alertMail and mailDate use keepalived's wording and format", () => {
  assert.deepEqual(alertMail("ka1", { instance: "VI_1", state: "BACKUP", priority: 1 }), {
    subject: "[ka1] VRRP Instance VI_1 - Entering BACKUP state",
    body: "=> VRRP Instance is no longer owning VRRP VIPs <=",
  });
  assert.equal(
    alertMail("r", { instance: "X", state: "STOP", priority: 1 }).subject,
    "[r] VRRP Instance X - Stopping",
  );
  assert.match(
    mailDate(new Date()),
    /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/,
  );
});

Deno.test("NotifyQueue runs scripts in transition order, each awaited", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/n.sh`;
    // Earlier calls sleep longer: with concurrent runs the file order would be reversed.
    await Deno.writeTextFile(
      script,
      `#!/bin/sh\ncase "$4" in BACKUP) sleep 0.3;; MASTER) sleep 0.1;; esac\necho "$1 $2 $3 $4" >> ${dir}/log\n`,
    );
    await Deno.chmod(script, 0o755);
    const q = new NotifyQueue(instanceConfig({ notify: `${script} ka1` }), {
      logger: createLogger({ sink: memorySink(), level: "debug" }),
      routerId: "r",
    });
    q.push({ instance: "VI_1", state: "BACKUP", priority: 100 });
    q.push({ instance: "VI_1", state: "MASTER", priority: 100 });
    q.push({ instance: "VI_1", state: "STOP", priority: 100 });
    await q.idle();
    assert.equal(
      await Deno.readTextFile(`${dir}/log`),
      "ka1 INSTANCE VI_1 BACKUP\nka1 INSTANCE VI_1 MASTER\nka1 INSTANCE VI_1 STOP\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "NotifyQueue runs notify scripts as script_user (root only: runuser)",
  ignore: Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.chmod(dir, 0o777);
      const script = `${dir}/n.sh`;
      await Deno.writeTextFile(script, `#!/bin/sh\nid -un > ${dir}/who\n`);
      await Deno.chmod(script, 0o755);
      const q = new NotifyQueue(instanceConfig({ notify: script }), {
        logger: createLogger({ sink: memorySink(), level: "debug" }),
        routerId: "r",
        scriptUser: "nobody",
      });
      q.push({ instance: "VI_1", state: "MASTER", priority: 100 });
      await q.idle();
      assert.equal((await Deno.readTextFile(`${dir}/who`)).trim(), "nobody");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("sendMail speaks keepalived's SMTP dialogue to a local sink", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const transcript: string[] = [];
  const sink = (async () => {
    const conn = await listener.accept();
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    await conn.write(enc.encode("220 sink\r\n"));
    let buf = "";
    let inData = false;
    const chunk = new Uint8Array(4096);
    for (let i = 0; i < 100; i++) {
      const n = await conn.read(chunk);
      if (n === null) break;
      buf += dec.decode(chunk.subarray(0, n));
      let at;
      while ((at = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, at);
        buf = buf.slice(at + 2);
        transcript.push(line);
        if (inData) {
          if (line === ".") {
            inData = false;
            await conn.write(enc.encode("250 queued\r\n"));
          }
        } else if (line === "DATA") {
          inData = true;
          await conn.write(enc.encode("354 go\r\n"));
        } else if (line === "QUIT") {
          await conn.write(enc.encode("221 bye\r\n"));
        } else {
          await conn.write(enc.encode("250 ok\r\n"));
        }
      }
      if (transcript.at(-1) === "QUIT") break;
    }
    conn.close();
  })();
  const { port } = listener.addr as Deno.NetAddr;
  const notify: NotifyConfig = {
    emailTo: ["ops@example.com", "dev@example.com"],
    emailFrom: "ka1@example.com",
    smtpServer: { host: "127.0.0.1", port, text: `127.0.0.1:${port}` },
    smtpConnectTimeout: 2000,
  };
  await sendMail(notify, alertMail("ka1", { instance: "VI_1", state: "MASTER", priority: 150 }), {
    helo: "node1",
    date: new Date(0),
  });
  await sink;
  listener.close();
  const date = transcript.find((l) => l.startsWith("Date: "));
  assert.deepEqual(transcript, [
    "HELO node1",
    "MAIL FROM:<ka1@example.com>",
    "RCPT TO:<ops@example.com>",
    "RCPT TO:<dev@example.com>",
    "DATA",
    date,
    "From: ka1@example.com",
    "Subject: [ka1] VRRP Instance VI_1 - Entering MASTER state",
    "X-Mailer: Keepalived",
    "To: ops@example.com, dev@example.com",
    "",
    "=> VRRP Instance is now owning VRRP VIPs <=",
    "",
    ".",
    "QUIT",
  ]);
});

Deno.test("sendMail rejects with the step on an SMTP error reply", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = (async () => {
    const conn = await listener.accept();
    await conn.write(new TextEncoder().encode("554 no service\r\n"));
    conn.close();
  })();
  const { port } = listener.addr as Deno.NetAddr;
  await assert.rejects(
    sendMail({
      emailTo: ["a@b"],
      emailFrom: "c@d",
      smtpServer: { host: "127.0.0.1", port, text: "" },
      smtpConnectTimeout: 1000,
    }, { subject: "s", body: "b" }),
    /rejected greeting: 554/,
  );
  await server;
  listener.close();
});
