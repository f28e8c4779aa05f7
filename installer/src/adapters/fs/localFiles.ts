// This machine's files for steps that keep a copy here (the operator's kubeconfig): read, and write atomically with a mode.
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { OmstackError } from "../../errors.js";
import type { LocalFiles } from "../../steps/k8s/kubeconfig.js";

/** LocalFiles over node:fs; the file is written to a temporary name with its mode, then renamed over the target. */
export const nodeLocalFiles: LocalFiles = {
  async read(path) {
    return readFile(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
  },
  async write(path, content, mode) {
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(tmp, content, { mode });
      await chmod(tmp, mode);
      await rename(tmp, path);
    } catch (e) {
      throw new OmstackError("E_CONFIG_WRITE", `cannot write ${path}: ${(e as Error).message}`, { remedy: "check that the folder is writable (or choose another with --kubeconfig)", cause: e });
    }
  },
};
