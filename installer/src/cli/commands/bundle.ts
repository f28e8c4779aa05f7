// `omstack bundle keygen|build|verify|inspect|diff|extract` and `omstack images lock`: the offline bundle's commands.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { OmstackError } from "../../errors.js";
import { buildBundle, resolveImages } from "../../bundle/build.js";
import { diffManifests, renderDiff } from "../../bundle/diff.js";
import { extractBundle } from "../../bundle/extract.js";
import { DEFAULT_SCAN_ROOTS, parseLock, renderLock, scanImageRefs, unlockedRefs } from "../../bundle/images-lock.js";
import { humanBytes, renderSummary, summarize } from "../../bundle/inspect.js";
import type { BundleManifest } from "../../bundle/manifest.js";
import { platformString } from "../../bundle/oci.js";
import { parseRecipe } from "../../bundle/recipe.js";
import { makePuller, parseMirrors } from "../../bundle/registry.js";
import { generateKeyFiles, loadPrivateKey } from "../../bundle/sign.js";
import { readBundleHead, verifyBundle } from "../../bundle/verify.js";
import type { Register } from "../main.js";
import type { Runtime } from "../runtime.js";
import { DEFAULT_TRUST_DIR, trustedKeys as trustedKeysFrom } from "../trust.js";

export { DEFAULT_TRUST_DIR };

const collect = (v: string, prev: string[]) => [...prev, v];

async function readRecipe(path: string) {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new OmstackError("E_CONFIG_READ", `cannot read the recipe ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      remedy: "check the --recipe path",
      cause: e,
    });
  }
  return parseRecipe(text, path);
}

/** --trust keys, or the trust folder's; notes go to the operator. */
const trustedKeys = (paths: string[], rt: Runtime) => trustedKeysFrom(paths, (l) => rt.note(l));

/** Adds the bundle and images command groups. */
export const registerBundle: Register = (program: Command, run) => {
  const bundle = program.command("bundle").description("build, sign, verify, inspect and compare offline bundles (docs/bundle.md)");

  bundle
    .command("keygen")
    .description("make an ed25519 key pair: KEY (private, 0600) and KEY.pub")
    .requiredOption("--out <key>", "path of the private key; the public key goes to <key>.pub")
    .action((o: { out: string }) =>
      run("bundle-keygen", async (rt) => {
        const r = await generateKeyFiles(o.out);
        rt.print(r, () => `private key ${r.privatePath} (0600, keep it secret)\npublic key  ${r.publicPath} (give it to installers: --trust)\nkey id      ${r.keyId}\n`);
        return 0;
      }),
    );

  bundle
    .command("build")
    .description("build a signed bundle from a recipe")
    .requiredOption("--recipe <file>", "recipe YAML (see bundle/recipes/test.yaml)")
    .requiredOption("--key <file>", "ed25519 private key from `bundle keygen`")
    .requiredOption("--out <file>", "bundle file to write, or a folder to write omstack-<version>-<arch>.tar into")
    .option("--registry-mirror <host=url>", "pull images of <host> from <url> first (repeatable)", collect, [] as string[])
    .option("--delta-from <old.tar>", "write a delta bundle holding only what OLD (a full bundle) lacks")
    .action((o: { recipe: string; key: string; out: string; registryMirror: string[]; deltaFrom?: string }) =>
      run("bundle-build", async (rt) => {
        const recipe = await readRecipe(o.recipe);
        const key = await loadPrivateKey(o.key);
        const mirrors = parseMirrors(o.registryMirror);
        let deltaFrom: { manifest: BundleManifest; manifestSha256: string } | undefined;
        if (o.deltaFrom) {
          const head = await readBundleHead(o.deltaFrom);
          deltaFrom = { manifest: head.manifest, manifestSha256: createHash("sha256").update(head.manifestBytes).digest("hex") };
        }
        const r = await buildBundle({ recipe, key, out: o.out, deltaFrom, pull: makePuller({ mirrors, log: (l) => rt.log.info(l) }), note: (l) => rt.note(l) });
        rt.print({ out: r.out, bytes: r.bytes, manifestSha256: r.manifestSha256, version: r.manifest.version, files: r.manifest.files.length }, () => `wrote ${r.out} (${humanBytes(r.bytes)}, ${r.manifest.files.length} files, bundle.json sha256 ${r.manifestSha256})\n`);
        return 0;
      }),
    );

  bundle
    .command("verify")
    .description("check the signature, then every file's sha256, in one streaming pass")
    .argument("<file>", "bundle .tar")
    .option("--trust <pubkey>", "public key to trust (repeatable); default: *.pub in $OMSTACK_TRUST_DIR or /etc/omstack/trusted-keys", collect, [] as string[])
    .action((file: string, o: { trust: string[] }) =>
      run("bundle-verify", async (rt) => {
        const keys = await trustedKeys(o.trust, rt);
        const r = await verifyBundle(file, keys);
        rt.print(
          { ok: true, file, name: r.manifest.name, version: r.manifest.version, signedBy: r.signedBy, files: r.files, bytes: r.bytes, manifestSha256: r.manifestSha256 },
          () =>
            `ok: ${file} is ${r.manifest.name} ${r.manifest.version}, signed by key ${r.signedBy}; ${r.files} files (${humanBytes(r.bytes)}) match bundle.json\n` +
            (r.manifest.delta ? `note: a delta from ${r.manifest.delta.fromVersion}; its ${r.manifest.delta.inherited.length} inherited files are checked when it is extracted with --base\n` : ""),
        );
        return 0;
      }),
    );

  bundle
    .command("extract")
    .description("verify and extract a bundle into a new folder (nothing appears unless every file checks out)")
    .argument("<file>", "bundle .tar")
    .requiredOption("--to <dir>", "folder to create")
    .option("--trust <pubkey>", "public key to trust (repeatable)", collect, [] as string[])
    .option("--base <dir>", "for a delta bundle: the folder its base bundle was extracted to")
    .action((file: string, o: { to: string; trust: string[]; base?: string }) =>
      run("bundle-extract", async (rt) => {
        const keys = await trustedKeys(o.trust, rt);
        const r = await extractBundle(file, o.to, { trusted: keys, ...(o.base ? { base: o.base } : {}) });
        rt.print({ ok: true, to: resolve(o.to), files: r.files, bytes: r.bytes, signedBy: r.signedBy }, () => `extracted ${r.files} files (${humanBytes(r.bytes)}) into ${resolve(o.to)}\n`);
        return 0;
      }),
    );

  bundle
    .command("inspect")
    .description("versions, components, sizes, images and charts of a bundle (reads bundle.json only)")
    .argument("<file>", "bundle .tar")
    .action((file: string) =>
      run("bundle-inspect", async (rt) => {
        const head = await readBundleHead(file);
        const s = summarize(head.manifest, head.signature);
        rt.print(s, () => renderSummary(s));
        return 0;
      }),
    );

  bundle
    .command("diff")
    .description("components, images, charts and files added, removed or changed from A to B")
    .argument("<a>", "older bundle")
    .argument("<b>", "newer bundle")
    .action((a: string, b: string) =>
      run("bundle-diff", async (rt) => {
        const [ha, hb] = await Promise.all([readBundleHead(a), readBundleHead(b)]);
        const d = diffManifests(ha.manifest, hb.manifest);
        rt.print(d, () => renderDiff(d));
        return 0;
      }),
    );

  const images = program.command("images").description("the images the platform runs (images.lock)");
  images
    .command("lock")
    .description("write images.lock from the recipes' images and the charts/manifests that use them")
    .option("--recipe <file>", "recipe(s) to take images from (repeatable; default: bundle/recipes/*.yaml)", collect, [] as string[])
    .option("--repo <dir>", "repository root", ".")
    .option("--check", "fail when images.lock is out of date or a chart/manifest uses an unlocked image; write nothing", false)
    .action((o: { recipe: string[]; repo: string; check: boolean }) =>
      run("images-lock", async (rt) => {
        const repo = resolve(o.repo);
        const recipeFiles = o.recipe.length
          ? o.recipe
          : (await readdir(join(repo, "bundle/recipes")).catch(() => [] as string[])).filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => join(repo, "bundle/recipes", n));
        const work = await mkdtemp(join(tmpdir(), "omstack-images-lock-"));
        const resolved: { name: string; digest: string; platform: string }[] = [];
        try {
          for (const f of recipeFiles) {
            const recipe = await readRecipe(f);
            for (const im of await resolveImages(recipe, work, process.env, makePuller({ mirrors: [], log: (l) => rt.log.info(l) }))) {
              resolved.push({ name: im.name, digest: im.parts.manifestDigest, platform: platformString(im.parts.platform) });
            }
          }
        } finally {
          await rm(work, { recursive: true, force: true });
        }
        const refs = await scanImageRefs(repo, DEFAULT_SCAN_ROOTS);
        const text = renderLock(resolved, refs);
        const missing = unlockedRefs(parseLock(text), refs);
        if (missing.length > 0) {
          throw new OmstackError("E_IMAGES_LOCK", `${missing.length} image reference(s) in charts/manifests come from no recipe: ${missing.map((m) => `${m.ref} (${m.file})`).join(", ")}`, {
            remedy: "add each image, pinned by digest, to a recipe under bundle/recipes/, then run `omstack images lock` again",
          });
        }
        const lockPath = join(repo, "images.lock");
        if (o.check) {
          const current = await readFile(lockPath, "utf8").catch(() => "");
          if (current !== text) throw new OmstackError("E_IMAGES_LOCK", `${lockPath} is out of date`, { remedy: "run `omstack images lock` and commit the result" });
          rt.print({ ok: true, images: resolved.length }, () => `images.lock is up to date (${resolved.length} images)\n`);
          return 0;
        }
        await writeFile(lockPath, text);
        rt.print({ written: lockPath, images: resolved.length }, () => `wrote ${lockPath} (${resolved.length} images, ${refs.length} references checked)\n`);
        return 0;
      }),
    );
};
