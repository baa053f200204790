import assert from "node:assert/strict";
import { type ByteConn, ReadBuffer } from "./io.ts";

/** A connection whose reads wait until the test hands them bytes. */
function fakeConn() {
  const reads: { p: Uint8Array; resolve: (n: number | null) => void }[] = [];
  const conn: ByteConn = {
    read(p) {
      const { promise, resolve } = Promise.withResolvers<number | null>();
      reads.push({ p, resolve });
      return promise;
    },
    write: (p) => Promise.resolve(p.length),
    closeWrite: () => Promise.resolve(),
    close() {},
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 2 },
  };
  /** Completes the oldest read with `bytes`. */
  const deliver = (bytes: number[]) => {
    const r = reads.shift()!;
    r.p.set(bytes);
    r.resolve(bytes.length);
  };
  return { conn, deliver, reads };
}

Deno.test("read buffer: a released buffer serves the next one; later fills are end of stream", async () => {
  const { conn, deliver } = fakeConn();
  const a = new ReadBuffer();
  const filled = a.fill(conn);
  deliver([1, 2, 3]);
  assert.equal(await filled, 3);
  assert.deepEqual([...a.view()], [1, 2, 3]);
  const bytes = a.buf;
  a.release();
  assert.equal(a.buf.length, 0);
  assert.equal(await a.fill(conn), null);
  const b = new ReadBuffer();
  assert.equal(b.buf, bytes, "the released array is reused");
  assert.ok(b.empty);
});

Deno.test("read buffer: released during a read, the array waits for the read to settle", async () => {
  const { conn, deliver } = fakeConn();
  const a = new ReadBuffer();
  const bytes = a.buf;
  const filled = a.fill(conn);
  a.release();
  // The read still owns the array: a new buffer must not get it yet.
  const b = new ReadBuffer();
  assert.notEqual(b.buf, bytes);
  deliver([9]);
  assert.equal(await filled, null, "a read that lands after release reports end of stream");
  assert.equal(new ReadBuffer().buf, bytes, "recycled once the read settled");
});

Deno.test("read buffer: a pinned head is detached before a fill and on release", async () => {
  const { conn, deliver } = fakeConn();
  let detached = 0;
  const head = { detach: () => detached++ };
  const a = new ReadBuffer();
  a.pin(head);
  const filled = a.fill(conn);
  assert.equal(detached, 1, "detached before the read may overwrite its bytes");
  deliver([1]);
  await filled;
  const again = a.fill(conn);
  assert.equal(detached, 1, "unpinned by the first fill");
  deliver([2]);
  await again;
  a.pin(head);
  a.pin(null);
  a.release();
  assert.equal(detached, 1, "pin(null) forgets it");
  const c = new ReadBuffer();
  c.pin(head);
  c.release();
  assert.equal(detached, 2);
});
