import assert from "node:assert/strict";
import { txnOf } from "./_testing.ts";
import type { ConnInfo } from "./txn.ts";
import type { ForwardFor } from "../../config/types.ts";
import { applyForwardFor } from "./forwardfor.ts";

const ff = (o: Partial<ForwardFor> = {}): ForwardFor => ({
  except: null,
  header: "X-Forwarded-For",
  ifNone: false,
  ...o,
});

// Observed on haproxy 2.6.12: the client's XFF stays, ours is appended as a new last line.
Deno.test("applyForwardFor", () => {
  const cases: [ForwardFor, string, Partial<ConnInfo>, [string, string][]][] = [
    [ff(), "X-Forwarded-For: 9.9.9.9\nX-A: 1\n", {}, [
      ["X-Forwarded-For", "9.9.9.9"],
      ["X-A", "1"],
      ["X-Forwarded-For", "192.0.2.7"],
    ]],
    [ff({ except: "192.0.2.0/24" }), "", {}, []],
    [ff({ except: "127.0.0.0/8" }), "", {}, [["X-Forwarded-For", "192.0.2.7"]]],
    [ff({ except: "2001:db8::/32" }), "", { src: "2001:db8::5" }, []],
    [ff({ header: "X-Real", ifNone: true }), "x-real: 9.9.9.9\n", {}, [["x-real", "9.9.9.9"]]],
    [ff({ header: "X-Real", ifNone: true }), "", {}, [["X-Real", "192.0.2.7"]]],
    [ff(), "", { src: "" }, []],
  ];
  for (const [f, headers, conn, want] of cases) {
    const txn = txnOf(`GET / HTTP/1.1\n${headers}`, undefined, conn);
    applyForwardFor(f, txn);
    assert.deepEqual(txn.req.headers, want);
    assert.equal(txn.req.lowerNames.length, want.length);
  }
});
