/**
 * systemd's readiness protocol (`sd_notify`): one datagram of `KEY=value` lines sent to the unix
 * datagram socket named by `$NOTIFY_SOCKET`, for units with `Type=notify`. A path names a socket
 * file; a leading `@` names a socket in the abstract namespace.
 *
 * Built on Deno's own unix datagram sockets (`Deno.listenDatagram`, unstable "net"), no FFI: the
 * sending socket is bound to a fresh abstract name, so nothing is written to the file system
 * (the unit runs with `ProtectSystem=strict`). Without `$NOTIFY_SOCKET` (not started by systemd)
 * every call is a no-op that resolves to `false`; a failed send never throws.
 *
 * @module
 */

/** Where to send: defaults to `$NOTIFY_SOCKET`. */
export interface NotifyOptions {
  /** The socket as systemd writes it in `$NOTIFY_SOCKET` (`/run/systemd/notify` or `@name`). */
  socket?: string;
}

/**
 * The address Deno binds or sends to for a `$NOTIFY_SOCKET` value: a path as is, `@name` as the
 * abstract name `"\0name"`. `null` for anything else (unset, empty, relative, `vsock:` addresses).
 */
export function notifySocketAddress(value: string | undefined): string | null {
  if (value === undefined || value.length < 2) return null;
  if (value.startsWith("@")) return `\0${value.slice(1)}`;
  if (value.startsWith("/")) return value;
  return null;
}

/**
 * Sends `state` (e.g. `"READY=1"`, `"RELOADING=1"`, `"STOPPING=1"`, `"STATUS=serving"`; several
 * lines joined with `\n`) to systemd. Resolves to `true` when the datagram was sent, `false` when
 * there is no notify socket or the send failed.
 */
export async function notifySystemd(state: string, options: NotifyOptions = {}): Promise<boolean> {
  const target = notifySocketAddress(options.socket ?? Deno.env.get("NOTIFY_SOCKET"));
  if (target === null || typeof Deno.listenDatagram !== "function") return false;
  let sender: Deno.DatagramConn | null = null;
  try {
    sender = Deno.listenDatagram({
      transport: "unixpacket",
      path: `\0halb-notify/${Deno.pid}/${crypto.randomUUID()}`,
    });
    const data = new TextEncoder().encode(state);
    const sent = await sender.send(data, { transport: "unixpacket", path: target });
    return sent === data.byteLength;
  } catch {
    return false;
  } finally {
    sender?.close();
  }
}
