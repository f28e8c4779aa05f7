// k8s.images: the bundle's images into containerd's k8s.io namespace on every node (the CRI's namespace), pinned so
// the kubelet's image garbage collection never removes what cannot be pulled again offline.
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import type { BundlePart, BundleParts } from "../bundleParts.js";
import { CONTAINERD_SOCKET } from "../host/containerd-config.js";
import { shq } from "../shell.js";
import { allNodes } from "../targets.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";

/** containerd namespace the CRI plugin (and so the kubelet) uses. */
export const CRI_NAMESPACE = "k8s.io";
/** Staging folder for the OCI layout on a node; removed once the import is verified. */
export const IMAGE_STAGING_DIR = "/var/lib/omstack/images";
/** The CRI plugin keeps images with this label from the kubelet's garbage collection (containerd ≥ 1.7; a plain label before). */
export const PINNED_LABEL = "io.cri-containerd.pinned=pinned";

/** ref → manifest digest from `ctr images ls` (columns REF TYPE DIGEST SIZE PLATFORMS LABELS). */
export function parseCtrImages(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 3 || cols[0] === "REF") continue;
    if (/^sha256:[0-9a-f]{64}$/.test(cols[2]!)) out.set(cols[0]!, cols[2]!);
  }
  return out;
}

/** The images of `wanted` that containerd lacks or holds with another digest. */
export function missingImages(present: Map<string, string>, wanted: readonly { name: string; digest: string }[]): string[] {
  return wanted.filter((w) => present.get(w.name) !== w.digest).map((w) => w.name);
}

/** The images containerd holds; null when containerd is not installed or not serving yet (before host.containerd-config). */
async function present(ctx: ReadCtx): Promise<Map<string, string> | null> {
  if (!(await ctx.commandExists("ctr")) || !(await ctx.exists(CONTAINERD_SOCKET))) return null;
  const r = await ctx.query(`ctr -n ${CRI_NAMESPACE} images ls`, { timeoutMs: 120_000, okExitCodes: [0, 1] });
  return r.exitCode === 0 ? parseCtrImages(r.stdout) : null;
}

/** Every bundle file the OCI layout needs on a node: oci-layout, index.json, each image's manifest and blobs. */
export function layoutParts(parts: BundleParts): BundlePart[] {
  const paths = new Set<string>(["images/oci-layout", "images/index.json"]);
  for (const img of parts.images) for (const d of [img.digest, ...img.blobs]) paths.add(`images/blobs/${d.replace(":", "/")}`);
  return [...paths].sort().map((p) => {
    const part = parts.part(p);
    if (!part) throw new OmstackError("E_BUNDLE_PART_MISSING", `bundle ${parts.version} lists an image file it does not carry: ${p}`, { remedy: "the bundle is incomplete; rebuild it (omstack bundle verify names what is wrong)" });
    return part;
  });
}

/** Builds the step for the bundle's images. */
export function k8sImages(parts: BundleParts, opts: { hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const id = "k8s.images";
  const wanted = parts.images.map((i) => ({ name: i.name, digest: i.digest }));
  const files = layoutParts(parts);
  const stage = `${IMAGE_STAGING_DIR}/${parts.version.replace(/[^A-Za-z0-9._+-]/g, "_")}`;
  const bytes = files.reduce((n, f) => n + f.size, 0);
  return {
    id,
    title: "Import the bundle's container images into containerd",
    targets: opts.hosts ?? allNodes,
    inputs: () => ({ images: wanted }),
    async check(ctx): Promise<CheckResult> {
      const have = await present(ctx);
      if (have === null) return { pending: "containerd is not installed or not serving yet" };
      const miss = missingImages(have, wanted);
      return miss.length ? { pending: `${miss.length} of ${wanted.length} images not in containerd: ${miss.slice(0, 5).join(", ")}${miss.length > 5 ? ", …" : ""}` } : "done";
    },
    async apply(ctx) {
      if (!(await ctx.commandExists("ctr")) || !(await ctx.exists(CONTAINERD_SOCKET))) {
        throw new OmstackError("E_CONTAINERD_MISSING", `${ctx.host}: containerd is not installed or not serving (${CONTAINERD_SOCKET} missing), so the bundle's images cannot be imported`, { host: ctx.host, remedy: "install containerd (the bundle's packages or the OS's) and run the install again" });
      }
      for (const f of files) {
        const dest = `${stage}/${f.path.slice("images/".length)}`;
        if ((await ctx.sha256(dest)) !== f.sha256) await ctx.pushFile(f.source, dest, { sha256: f.sha256, mode: 0o644 });
      }
      // ctr reads an OCI layout as a tar stream; the images are named by their io.containerd.image.name annotation.
      await ctx.run(`tar -C ${shq(stage)} -cf - . | ctr -n ${CRI_NAMESPACE} images import -`, { timeoutMs: 30 * 60_000 });
      for (const w of wanted) await ctx.run(`ctr -n ${CRI_NAMESPACE} images label ${shq(w.name)} ${PINNED_LABEL} >/dev/null`, { timeoutMs: 60_000 });
      const have = (await present(ctx)) ?? new Map();
      if (missingImages(have, wanted).length === 0) await ctx.run(`rm -rf ${shq(stage)}`);
    },
    async verify(ctx) {
      const have = await present(ctx);
      const miss = have === null ? wanted.map((w) => w.name) : missingImages(have, wanted);
      if (miss.length) {
        throw verifyFailed(ctx.host, id, `containerd (namespace ${CRI_NAMESPACE}) must hold every bundle image at its digest; missing or different: ${miss.join(", ")}`, "read the import's output in the log; check free space under /var/lib/containerd (`df -h`), then run the install again");
      }
    },
    describe: () => [
      `push the bundle's OCI layout (${files.length} files, ${(bytes / 2 ** 20).toFixed(0)} MiB) to ${stage}, each file sha256-checked`,
      `ctr -n ${CRI_NAMESPACE} images import it, label each image ${PINNED_LABEL}, remove ${stage}:`,
      ...wanted.map((w) => `  ${w.name} (${w.digest.slice(0, 19)}…)`),
    ],
  };
}
