// `ss -H -lntu` → listening TCP/UDP sockets (address, port) for the port-conflict check.
import type { SystemFacts } from "../facts.js";
import { lines, safely, toInt, type Parsed } from "./util.js";

type Listening = SystemFacts["listeningPorts"][number];

/** Columns: Netid State Recv-Q Send-Q Local:Port Peer:Port [Process]; a header line is tolerated. */
export function parseSs(text: string): Parsed<Listening[]> {
  return safely("ss-listen.txt", [], (sink) => {
    const out: Listening[] = [];
    for (const line of lines(text)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 5 || cols[0] === "Netid") continue;
      const proto = cols[0];
      if (proto !== "tcp" && proto !== "udp") continue;
      const local = cols[4] ?? "";
      const i = local.lastIndexOf(":");
      const port = i >= 0 ? toInt(local.slice(i + 1)) : null;
      if (i < 0 || port === null || port > 65535) {
        sink.add(`unreadable line "${line.slice(0, 80)}"`);
        continue;
      }
      const address = local.slice(0, i).replace(/^\[|\]$/g, "");
      out.push({ proto, address, port });
    }
    return out;
  });
}
