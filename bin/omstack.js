#!/usr/bin/env node
// Entry shim: runs the compiled CLI (built by `npm ci` through the prepare script).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
const entry = new URL("../installer/dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("omstack: the CLI is not built (installer/dist is missing).\n  fix: run `npm ci` (or `npm run build`) in the checkout.\n");
  process.exit(2);
}
await import(entry.href);
