// Run without --allow-ffi: importing the FFI modules must work, the first use must throw.
import { FfiUnavailableError } from "../errors.ts";
import { Poller } from "../poller.ts";
import { linkIndex } from "../netlink.ts";

const poller = new Poller();
let name = "no error";
try {
  linkIndex("lo");
} catch (err) {
  name = err instanceof FfiUnavailableError ? "FfiUnavailableError" : String(err);
}
let pollerName = "no error";
try {
  poller.start();
} catch (err) {
  pollerName = err instanceof FfiUnavailableError ? "FfiUnavailableError" : String(err);
}
console.log(JSON.stringify({ name, pollerName }));
