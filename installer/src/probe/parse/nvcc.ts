// `nvcc --version` → the installed CUDA toolkit version.
import { safely, type Parsed } from "./util.js";

/** "Cuda compilation tools, release 12.2, V12.2.140" → "12.2.140" (or "12.2" when no V-build is printed). */
export function parseNvcc(text: string): Parsed<string | null> {
  return safely("nvcc-version.txt", null, (sink) => {
    const full = /release\s+\d+(?:\.\d+)*,\s*V(\d+(?:\.\d+)+)/.exec(text);
    if (full?.[1]) return full[1];
    const rel = /release\s+(\d+(?:\.\d+)+)/.exec(text);
    if (rel?.[1]) return rel[1];
    sink.add("no CUDA release line found");
    return null;
  });
}
