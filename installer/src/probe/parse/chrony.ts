// `chronyc -n tracking` → synchronised when the leap status is Normal (chrony's own definition).
import { safely, type Parsed } from "./util.js";
import type { TimeSyncFacts } from "./timedatectl.js";

/** "Leap status : Normal" → true; "Not synchronised" → false. */
export function parseChronyTracking(text: string): Parsed<TimeSyncFacts> {
  return safely<TimeSyncFacts>("chronyc-tracking.txt", { synchronized: null, ntpService: null }, (sink) => {
    const m = /^Leap status\s*:\s*(.+?)\s*$/m.exec(text);
    if (!m || m[1] === undefined) {
      sink.add("no Leap status line found");
      return { synchronized: null, ntpService: "chronyd" };
    }
    return { synchronized: m[1] !== "Not synchronised", ntpService: "chronyd" };
  });
}
