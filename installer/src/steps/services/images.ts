// Pure: the container images a rendered chart runs, and those the bundle does not carry. Offline, such a pod would sit in
// ErrImageNeverPull/ImagePullBackOff until helm's timeout; finding it before the install turns a 10-minute wait into a
// one-line error naming the image.
import { parseAllDocuments } from "yaml";
import { parseImageRef } from "../../bundle/oci.js";
import type { BundlePartImage } from "../bundleParts.js";

const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"];

/** Every `image` of a container in the rendered manifests (pods, pod templates, CronJob templates), sorted, unique. */
export function renderedImages(manifests: string): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== "object" || v === null) return;
    for (const [k, child] of Object.entries(v)) {
      if (CONTAINER_LISTS.includes(k) && Array.isArray(child)) {
        for (const c of child) if (typeof c === "object" && c !== null && typeof (c as { image?: unknown }).image === "string") out.add((c as { image: string }).image);
      }
      walk(child);
    }
  };
  for (const doc of parseAllDocuments(manifests)) {
    if ("errors" in doc && doc.errors.length === 0) walk(doc.toJS());
  }
  return [...out].sort();
}

/** A reference reduced to what containerd matches on: registry/repository plus tag and/or digest. */
function key(ref: string): { repo: string; tag: string | undefined; digest: string | undefined } | null {
  const r = parseImageRef(ref);
  return r ? { repo: `${r.registry}/${r.repository}`, tag: r.tag, digest: r.digest } : null;
}

/** The rendered images the bundle lacks: same repository and tag, or same repository and manifest digest. */
export function missingImages(rendered: readonly string[], bundle: readonly BundlePartImage[]): string[] {
  const have = bundle.map((b) => ({ ...key(b.name), digest: b.digest }));
  return rendered.filter((ref) => {
    const k = key(ref);
    if (!k) return true;
    return !have.some((h) => h.repo === k.repo && (k.digest ? h.digest === k.digest : h.tag === k.tag));
  });
}
