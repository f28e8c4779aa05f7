// `uname -srm` (or `uname -a`) → kernel release and machine architecture.
import { safely, type Parsed } from "./util.js";

export interface UnameFacts {
  kernel: string | null;
  arch: string | null;
}

const ARCHES = new Set(["x86_64", "aarch64", "arm64", "ppc64le", "s390x", "riscv64", "i686", "i386", "armv7l", "loongarch64"]);

/** Reads "Linux 5.15.0-185-generic x86_64"; also accepts the longer `uname -a` line. */
export function parseUname(text: string): Parsed<UnameFacts> {
  return safely("uname.txt", { kernel: null, arch: null }, (sink) => {
    const tokens = text.trim().split(/\s+/).filter((t) => t !== "");
    if (tokens.length === 0) {
      sink.add("empty output");
      return { kernel: null, arch: null };
    }
    if (tokens.length === 3) return { kernel: tokens[1] ?? null, arch: tokens[2] ?? null };
    if (tokens.length === 2) return { kernel: tokens[1] ?? null, arch: null };
    // uname -a: "Linux host 5.4.0 #1 SMP ... x86_64 x86_64 x86_64 GNU/Linux"
    const arch = tokens.find((t) => ARCHES.has(t)) ?? null;
    const kernel = tokens.length > 2 && /^\d/.test(tokens[2] ?? "") ? (tokens[2] ?? null) : null;
    if (kernel === null) sink.add(`kernel release not recognised in "${text.trim().slice(0, 80)}"`);
    return { kernel, arch };
  });
}
