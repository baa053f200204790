/**
 * Errorfiles for the errors that close the connection: a malformed request gets the frontend's
 * `errorfile 400` (with `connection: close`), and `errorfile 408 = "/dev/null"` makes an
 * incomplete request's timeout close silently, the usual way to hide probes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileConfig } from "../src/config/load.ts";
import { createLogger, memorySink } from "../src/log/logger.ts";
import { startProxy } from "../src/proxy/proxy.ts";
import { readAll } from "./helpers/net.ts";
import { freePort } from "./helpers/backends.ts";

Deno.test("errorfile 400 answers a malformed request; errorfile 408 /dev/null closes silently", async () => {
  const dir = await Deno.makeTempDir({ prefix: "halb-errorfile-" });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/400.http`,
    "HTTP/1.1 400 Bad request\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nnope",
  );
  const { config, diagnostics } = compileConfig(
    `[frontend.fe]
mode = "http"
bind = ["127.0.0.1:${port}"]
default_backend = "be"
errorfile = { 400 = "${dir}/400.http", 408 = "/dev/null" }
timeout = { client = "5s", http_request = "300ms" }
[backend.be]
mode = "http"
timeout = { connect = "1s", server = "1s" }
server = [{ name = "s1", address = "127.0.0.1:9" }]
`,
    { file: "errorfile.toml" },
  );
  assert.ok(config, JSON.stringify(diagnostics));
  const proxy = await startProxy(config, {
    logger: createLogger({ sink: memorySink(), level: "info" }),
  });
  try {
    const bad = await Deno.connect({ hostname: "127.0.0.1", port });
    await bad.write(new TextEncoder().encode("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"));
    const answer = new TextDecoder().decode(await readAll(bad));
    bad.close();
    assert.equal(
      answer,
      "HTTP/1.1 400 Bad request\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n" +
        "connection: close\r\n\r\nnope",
    );
    const slow = await Deno.connect({ hostname: "127.0.0.1", port });
    await slow.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n"));
    const t0 = Date.now();
    const silent = await readAll(slow);
    slow.close();
    assert.equal(silent.length, 0, "nothing is sent before the close");
    assert.ok(Date.now() - t0 >= 250, "closed at timeout http_request");
  } finally {
    await proxy.stop({ graceMs: 0 });
    await Deno.remove(dir, { recursive: true });
  }
});
