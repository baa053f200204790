/**
 * Child process of privileges_test.ts (run as root): switches to nobody keeping the network
 * capabilities, with one worker isolate that takes part in the switch ("prepare" before,
 * "restrict" after), one that does not, and one started afterwards; prints what each thread
 * holds and whether each worker can still bind a privileged port, as JSON.
 *
 * @module
 */
import {
  dropPrivileges,
  KEPT_CAPABILITIES,
  threadCapabilities,
  type ThreadStep,
  threadSwitchStep,
} from "../privileges.ts";

const WORKER = "privileges-child-worker";

type Order = { op: "step"; step: ThreadStep } | { op: "bind" } | { op: "caps" };

/** Binds the first free port of 600..1023 on loopback: "bound", or the error that stopped it. */
function bindPrivileged(): string {
  const start = 600 + Math.floor(Math.random() * 300);
  for (let i = 0; i < 424; i++) {
    const port = 600 + ((start - 600 + i) % 424);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return "bound";
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) return (e as Error).name;
    }
  }
  return "no free port";
}

function hex(caps: { effective: bigint; permitted: bigint }): string {
  return `${caps.effective.toString(16)}/${caps.permitted.toString(16)}`;
}

if ((globalThis as { name?: string }).name === WORKER) {
  const scope = globalThis as unknown as {
    postMessage(m: unknown): void;
    onmessage: ((e: MessageEvent<Order>) => void) | null;
  };
  scope.onmessage = (e) => {
    const m = e.data;
    if (m.op === "step") scope.postMessage(threadSwitchStep(m.step, KEPT_CAPABILITIES));
    else if (m.op === "bind") scope.postMessage(bindPrivileged());
    else scope.postMessage(hex(threadCapabilities()));
  };
} else {
  const spawn = () => new Worker(import.meta.url, { type: "module", name: WORKER });
  const ask = (w: Worker, m: Order) =>
    new Promise<unknown>((resolve) => {
      w.onmessage = (e) => resolve(e.data);
      w.postMessage(m);
    });
  const prepared = spawn();
  const bystander = spawn();
  const before = { prepared: await ask(prepared, { op: "bind" }) };
  const prepare = await ask(prepared, { op: "step", step: "prepare" });
  const dropped = dropPrivileges({ uid: 65534, gid: 65534, keep: KEPT_CAPABILITIES });
  const restrict = await ask(prepared, { op: "step", step: "restrict" });
  const late = spawn();
  console.log(JSON.stringify({
    before,
    prepare,
    restrict,
    dropped,
    uid: Deno.uid(),
    gid: Deno.gid(),
    groups: /^Groups:[ \t]*(.*)$/m.exec(Deno.readTextFileSync("/proc/thread-self/status"))?.[1],
    main: hex(threadCapabilities()),
    mainBind: bindPrivileged(),
    prepared: [await ask(prepared, { op: "caps" }), await ask(prepared, { op: "bind" })],
    bystander: [await ask(bystander, { op: "caps" }), await ask(bystander, { op: "bind" })],
    late: [await ask(late, { op: "caps" }), await ask(late, { op: "bind" })],
  }));
  Deno.exit(0);
}
