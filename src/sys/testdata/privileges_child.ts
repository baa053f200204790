/**
 * Child process of privileges_test.ts (run as root): switches to nobody keeping the network
 * capabilities through `switchUser`, with one worker isolate that holds through the switch, one
 * that does not, and one started afterwards; prints what each thread holds and whether each
 * worker can still bind a privileged port, as JSON. The holding worker tries to start a nested
 * worker while the switch is under way; every thread of the process must end up with the kept
 * set or with nothing.
 *
 * @module
 */
import {
  holdThroughSwitch,
  KEPT_CAPABILITIES,
  switchUser,
  threadCapabilities,
} from "../privileges.ts";
import { createLogger, memorySink } from "../../log/logger.ts";

const WORKER = "privileges-child-worker";
const NESTED = "privileges-child-nested";

type Order =
  | { op: "hold"; gate: SharedArrayBuffer }
  | { op: "bind" }
  | { op: "caps" }
  | { op: "nested" };

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

/** Distinct "effective/permitted" pairs over every thread of this process. */
function processCapabilities(): string[] {
  const seen = new Set<string>();
  for (const task of Deno.readDirSync("/proc/self/task")) {
    const status = Deno.readTextFileSync(`/proc/self/task/${task.name}/status`);
    const mask = (key: string) =>
      BigInt(`0x${new RegExp(`^${key}:\\s*([0-9a-f]+)$`, "m").exec(status)![1]}`).toString(16);
    seen.add(`${mask("CapEff")}/${mask("CapPrm")}`);
  }
  return [...seen].sort();
}

const role = (globalThis as { name?: string }).name;
if (role === NESTED) {
  (globalThis as unknown as { postMessage(m: unknown): void }).postMessage(
    hex(threadCapabilities()),
  );
} else if (role === WORKER) {
  const scope = globalThis as unknown as {
    postMessage(m: unknown): void;
    onmessage: ((e: MessageEvent<Order>) => void) | null;
  };
  let nested: Promise<MessageEvent<string>> | null = null;
  scope.onmessage = (e) => {
    const m = e.data;
    if (m.op === "hold") {
      // Would start a thread inside the switch if the worker ran JavaScript while it holds.
      setTimeout(() => {
        const w = new Worker(import.meta.url, { type: "module", name: NESTED });
        nested = new Promise((resolve) => w.onmessage = resolve);
      }, 0);
      const held = (error: string | null) => scope.postMessage({ held: error });
      const gate = new Int32Array(m.gate);
      scope.postMessage({ done: holdThroughSwitch({ gate, keep: KEPT_CAPABILITIES, held }) });
    } else if (m.op === "bind") scope.postMessage(bindPrivileged());
    else if (m.op === "caps") scope.postMessage(hex(threadCapabilities()));
    else if (nested === null) scope.postMessage("no nested worker");
    else nested.then((e) => scope.postMessage(e.data));
  };
} else {
  const spawn = () => new Worker(import.meta.url, { type: "module", name: WORKER });
  const answers = new Map<Worker, ((m: unknown) => void)[]>();
  const next = (w: Worker) =>
    new Promise<unknown>((resolve) => {
      if (!answers.has(w)) {
        answers.set(w, []);
        w.onmessage = (e) => answers.get(w)!.shift()?.(e.data);
      }
      answers.get(w)!.push(resolve);
    });
  const ask = (w: Worker, m: Order) => {
    const answer = next(w);
    w.postMessage(m);
    return answer;
  };
  const prepared = spawn();
  const bystander = spawn();
  const before = { prepared: await ask(prepared, { op: "bind" }) };
  const steps: unknown[] = [];
  const sink = memorySink();
  const switched = await switchUser({ user: "nobody", group: "nogroup" }, {
    logger: createLogger({ sink, level: "debug" }),
    threads: {
      hold(gate, keep) {
        steps.push(keep);
        const held = ask(prepared, { op: "hold", gate });
        const done = next(prepared);
        const errors = (answer: unknown) => {
          const error = Object.values(answer as Record<string, string | null>)[0];
          return error === null ? [] : [error];
        };
        // A wide window between "held" and the switch: the worker must not run in it.
        const wide = held.then((a) =>
          new Promise<string[]>((resolve) => setTimeout(() => resolve(errors(a)), 100))
        );
        return { held: wide, done: done.then(errors) };
      },
    },
  });
  const late = spawn();
  console.log(JSON.stringify({
    before,
    steps,
    switched,
    log: sink.lines.map((l) => l.line),
    uid: Deno.uid(),
    gid: Deno.gid(),
    groups: /^Groups:[ \t]*(.*)$/m.exec(Deno.readTextFileSync("/proc/thread-self/status"))?.[1],
    main: hex(threadCapabilities()),
    mainBind: bindPrivileged(),
    prepared: [await ask(prepared, { op: "caps" }), await ask(prepared, { op: "bind" })],
    nested: await ask(prepared, { op: "nested" }),
    bystander: [await ask(bystander, { op: "caps" }), await ask(bystander, { op: "bind" })],
    late: [await ask(late, { op: "caps" }), await ask(late, { op: "bind" })],
    threads: processCapabilities(),
  }));
  Deno.exit(0);
}
