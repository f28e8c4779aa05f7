// npm links the bins of dependencies, not the root package's own: link `omstack` into node_modules/.bin
// so that `npx --no-install omstack` works in a fresh checkout right after `npm ci`.
import { mkdirSync, rmSync, symlinkSync, chmodSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const binDir = join(root, "node_modules", ".bin");
const target = join(root, "bin", "omstack.js");
mkdirSync(binDir, { recursive: true });
const link = join(binDir, "omstack");
rmSync(link, { force: true });
symlinkSync(relative(binDir, target), link);
chmodSync(target, 0o755);
