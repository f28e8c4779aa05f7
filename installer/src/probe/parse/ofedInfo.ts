// `ofed_info -s` → the MLNX_OFED / DOCA-OFED version string without the trailing colon.
import { lines, safely, type Parsed } from "./util.js";

/** First non-empty line, e.g. "MLNX_OFED_LINUX-23.07-0.5.1.2:" → "MLNX_OFED_LINUX-23.07-0.5.1.2". */
export function parseOfedInfo(text: string): Parsed<{ version: string } | null> {
  return safely("ofed_info.txt", null, (sink) => {
    const first = lines(text).map((l) => l.trim()).find((l) => l !== "");
    if (first === undefined) {
      sink.add("empty output");
      return null;
    }
    const version = first.replace(/:+$/, "").trim();
    if (version === "" || /\s/.test(version)) {
      sink.add(`unexpected first line "${first.slice(0, 80)}"`);
      return version === "" ? null : { version };
    }
    return { version };
  });
}
