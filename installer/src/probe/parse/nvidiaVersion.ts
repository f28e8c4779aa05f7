// /proc/driver/nvidia/version → the loaded kernel module version (the driver fallback without nvidia-smi).
import { safely, type Parsed } from "./util.js";

/** "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.54.03  ..." and the "Open Kernel Module for x86_64" form. */
export function parseNvidiaVersion(text: string): Parsed<string | null> {
  return safely("nvidia-version.txt", null, (sink) => {
    const m = /Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(text);
    if (!m || m[1] === undefined) {
      sink.add("no NVRM kernel module version found");
      return null;
    }
    return m[1];
  });
}
