// admin.app: the omstack app (bundle's app/omstack-app.tar) and Node runtime (bin/node) on the first control-plane
// node, unpacked into /opt/omstack/app-<release>/ and made live by an atomic swap of the /opt/omstack/current symlink.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";
import type { CheckResult, ReadCtx, Step, WriteCtx } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { APP_CURRENT, APP_ROOT, CLI_IN_RELEASE, NODE_IN_RELEASE, RELEASE_MARKER, checkBundleFile, firstControlPlane, releaseDir, releaseId, releaseMarker, type BundleFile } from "./layout.js";

/** The operator's `omstack` on the node (reset-password, list-users); written only where no other omstack is. */
export const OMSTACK_WRAPPER = "/usr/local/bin/omstack";
const WRAPPER_TAG = "# Managed by omstack (admin.app)";

/** The wrapper's exact text: runs the live release's CLI with the bundled Node. */
export function wrapperText(): string {
  return `#!/bin/sh\n${WRAPPER_TAG}: runs the installed omstack through ${APP_CURRENT}.\nexec ${APP_CURRENT}/${NODE_IN_RELEASE} ${APP_CURRENT}/${CLI_IN_RELEASE} "$@"\n`;
}

/** The shell that unpacks the pushed tarball into the partial folder and proves the CLI and its SQLite addon start there. */
export function unpackScript(partial: string, tarball: string): string {
  return [
    "set -eu",
    `tar -xf ${shq(tarball)} -C ${shq(partial)} --no-same-owner`,
    `${shq(`${partial}/${NODE_IN_RELEASE}`)} ${shq(`${partial}/${CLI_IN_RELEASE}`)} --version`,
    // the native SQLite addon must load with this Node (same ABI as the build that packed it)
    `${shq(`${partial}/${NODE_IN_RELEASE}`)} -e 'new (require(process.argv[1]))(":memory:").close()' ${shq(`${partial}/omstack/node_modules/better-sqlite3`)}`,
  ].join("\n");
}

/** The shell that renames a finished partial folder into place, swaps `current` to it and removes stale releases. */
export function activateScript(release: string): string {
  const name = release.slice(release.lastIndexOf("/") + 1);
  return [
    "set -eu",
    `cd ${shq(APP_ROOT)}`,
    `prev=$(readlink current 2>/dev/null || true)`,
    `ln -sfn ${shq(name)} .current.tmp`,
    `mv -T .current.tmp current`,
    // keep the new release and the one it replaced (a way back); drop older ones and leftovers of broken unpacks
    `for d in app-*; do [ -d "$d" ] || continue; [ "$d" = ${shq(name)} ] && continue; [ "$d" = "$prev" ] && continue; rm -rf -- "$d"; done`,
    `rm -f .omstack-app-*.tar`,
  ].join("\n");
}

interface State {
  live: boolean;
  nodeOk: boolean;
  releaseReady: boolean;
  wrapper: "ours" | "absent" | "other" | "stale";
}

/** Builds the step from the bundle's app tarball and Node runtime (local paths with their manifest sha256). */
export function adminApp(opts: { app: BundleFile; node: BundleFile; hosts?: (plan: Plan) => string[] }): Step<Plan> {
  const id = "admin.app";
  const app = checkBundleFile("app/omstack-app.tar", opts.app);
  const node = checkBundleFile("bin/node", opts.node);
  const release = releaseDir(app.sha256, node.sha256);
  const partial = `${release}.partial`;
  const tarball = `${APP_ROOT}/.omstack-app-${releaseId(app.sha256, node.sha256)}.tar`;
  const marker = releaseMarker(app.sha256, node.sha256);
  const wrapper = wrapperText();

  async function state(ctx: ReadCtx): Promise<State> {
    const w = await ctx.readText(OMSTACK_WRAPPER);
    return {
      live: (await ctx.readText(`${APP_CURRENT}/${RELEASE_MARKER}`)) === marker,
      nodeOk: (await ctx.sha256(`${APP_CURRENT}/${NODE_IN_RELEASE}`)) === node.sha256,
      releaseReady: (await ctx.readText(`${release}/${RELEASE_MARKER}`)) === marker && (await ctx.sha256(`${release}/${NODE_IN_RELEASE}`)) === node.sha256,
      wrapper: w === null ? "absent" : w === wrapper ? "ours" : w.includes(WRAPPER_TAG) ? "stale" : "other",
    };
  }

  async function unpack(ctx: WriteCtx): Promise<void> {
    if (!(await ctx.commandExists("tar"))) {
      throw new OmstackError("E_ADMIN_SERVICE_PREREQ", `${ctx.host}: tar is required to unpack the omstack app; it is not installed`, { host: ctx.host, remedy: "install tar on the node (apt-get install tar), then run the install again" });
    }
    await ctx.run(`rm -rf ${shq(partial)} && mkdir -p ${shq(partial)} && chmod 755 ${shq(APP_ROOT)} ${shq(partial)}`);
    await ctx.pushFile(node.path, `${partial}/${NODE_IN_RELEASE}`, { sha256: node.sha256, mode: 0o755 });
    await ctx.pushFile(app.path, tarball, { sha256: app.sha256, mode: 0o600 });
    await ctx.run(unpackScript(partial, tarball), { timeoutMs: 5 * 60_000 });
    await ctx.writeFile(`${partial}/${RELEASE_MARKER}`, marker, { mode: 0o644 });
    await ctx.run(`rm -rf ${shq(release)} && mv -T ${shq(partial)} ${shq(release)}`);
  }

  return {
    id,
    title: "Install the omstack app and Node runtime for the admin service",
    targets: opts.hosts ?? firstControlPlane,
    inputs: () => ({ release, appSha256: app.sha256, nodeSha256: node.sha256, wrapper }),
    async check(ctx): Promise<CheckResult> {
      const s = await state(ctx);
      if (!s.live) return { pending: `${APP_CURRENT} does not point at release ${release}` };
      if (!s.nodeOk) return { pending: `${APP_CURRENT}/${NODE_IN_RELEASE} is missing or differs from the bundle's Node runtime` };
      if (s.wrapper === "absent" || s.wrapper === "stale") return { pending: `${OMSTACK_WRAPPER} is ${s.wrapper === "absent" ? "missing" : "out of date"}` };
      return "done";
    },
    async apply(ctx) {
      let s = await state(ctx);
      if (!s.live || !s.nodeOk) {
        if (!s.releaseReady) await unpack(ctx);
        await ctx.run(activateScript(release));
        s = await state(ctx);
      }
      if (s.wrapper === "absent" || s.wrapper === "stale") await ctx.writeFile(OMSTACK_WRAPPER, wrapper, { mode: 0o755 });
      else if (s.wrapper === "other") ctx.note(`${OMSTACK_WRAPPER} exists and is not omstack's; left alone. Run the installed CLI as ${APP_CURRENT}/${NODE_IN_RELEASE} ${APP_CURRENT}/${CLI_IN_RELEASE}`);
    },
    async verify(ctx) {
      const s = await state(ctx);
      if (!s.live) throw verifyFailed(ctx.host, id, `${APP_CURRENT} must point at ${release} (its ${RELEASE_MARKER} naming release ${releaseId(app.sha256, node.sha256)}); it does not`, `something replaced ${APP_CURRENT}; run the install again`);
      if (!s.nodeOk) throw verifyFailed(ctx.host, id, `${APP_CURRENT}/${NODE_IN_RELEASE} must have sha256 ${node.sha256}; it is missing or different`, "the file was changed on the node; run the install again to put it back");
      if (!(await ctx.exists(`${APP_CURRENT}/${CLI_IN_RELEASE}`))) throw verifyFailed(ctx.host, id, `${APP_CURRENT}/${CLI_IN_RELEASE} must exist; it is missing`, `the release folder was changed; remove ${release} and run the install again`);
    },
    describe: () => [
      `push bin/node (sha256 ${node.sha256.slice(0, 12)}…) and app/omstack-app.tar (sha256 ${app.sha256.slice(0, 12)}…); unpack into ${release}/, unless it is already there`,
      `swap ${APP_CURRENT} -> ${release.slice(APP_ROOT.length + 1)} (atomic rename), keep the previous release, remove older ones`,
      `write ${OMSTACK_WRAPPER} (runs the installed CLI) unless another omstack is there`,
    ],
  };
}
