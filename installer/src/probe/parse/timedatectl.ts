// `timedatectl show` (key=value) → whether the clock is synchronised.
import { lines, safely, type Parsed } from "./util.js";

export interface TimeSyncFacts {
  synchronized: boolean | null;
  ntpService: string | null;
}

/** NTPSynchronized=yes|no decides; NTP=yes only says a service is enabled. */
export function parseTimedatectl(text: string): Parsed<TimeSyncFacts> {
  return safely("timedatectl.txt", { synchronized: null, ntpService: null }, (sink) => {
    const kv = new Map<string, string>();
    for (const line of lines(text)) {
      const m = /^\s*([A-Za-z]+)=(.*)$/.exec(line);
      if (m && m[1] !== undefined && m[2] !== undefined) kv.set(m[1], m[2].trim());
    }
    const synced = kv.get("NTPSynchronized");
    if (synced === undefined) {
      // Old systemd prints the human table ("System clock synchronized: yes" / "NTP synchronized: yes").
      const m = /(?:System clock synchronized|NTP synchronized):\s*(yes|no)/i.exec(text);
      if (m) return { synchronized: m[1]?.toLowerCase() === "yes", ntpService: null };
      sink.add("no NTPSynchronized= line found");
      return { synchronized: null, ntpService: null };
    }
    return { synchronized: synced === "yes", ntpService: kv.get("NTP") === "yes" ? "systemd-timedated" : null };
  });
}
