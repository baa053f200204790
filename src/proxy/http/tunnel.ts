/**
 * The tunnel after a `101 Switching Protocols` (WebSocket) or a 2xx to CONNECT: raw bytes both
 * ways between client and server until each side has closed, half-closes propagated.
 *
 * @module
 */
import { type ByteConn, closeQuietly, writeAll } from "../io.ts";

/** Copies one direction until EOF, then half-closes the destination; an error closes both. */
async function pump(
  from: ByteConn,
  to: ByteConn,
  onBytes: ((n: number) => void) | null,
): Promise<void> {
  const buf = new Uint8Array(16384);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      await writeAll(to, buf.subarray(0, n));
      onBytes?.(n);
    }
    await to.closeWrite();
  } catch {
    closeQuietly(from);
    closeQuietly(to);
  }
}

/**
 * Runs the tunnel until both directions ended. The caller has already delivered the bytes each
 * side sent ahead of the switch; `toClient` counts what then flows server → client.
 */
export async function tunnel(
  client: ByteConn,
  server: ByteConn,
  options: { toClient: (n: number) => void },
): Promise<void> {
  await Promise.all([pump(client, server, null), pump(server, client, options.toClient)]);
}
