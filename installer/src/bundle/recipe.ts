// The bundle recipe (YAML): what goes into a bundle and where each piece comes from. Pure: text in, Recipe out.
import { isAbsolute, resolve, dirname } from "node:path";
import { LineCounter, parseDocument, isMap, type Node } from "yaml";
import { OmstackError } from "../errors.js";
import { parseImageRef } from "./oci.js";
import { pathProblem, resolveLinkTarget } from "./paths.js";

/** Where a file's bytes come from. */
export type FileSource =
  | { kind: "content"; content: string }
  | { kind: "local"; path: string } // absolute, resolved against the recipe's folder
  | { kind: "url"; url: string; sha256: string };

/** A file or link placed at `path` in the bundle. */
export type RecipeFile = { path: string; mode: number; source: FileSource } | { path: string; symlink: string };

/** Where an image comes from. */
export type ImageSource =
  | { kind: "build"; context: string; cmd?: string[] }
  | { kind: "layout"; path: string; digest?: string }
  | { kind: "registry"; registry: string; repository: string; digest: string };

/** One image, known to the platform by `name`. */
export interface RecipeImage {
  name: string;
  source: ImageSource;
}

/** A chart from a local folder (packaged at build time) or from a Helm chart repository (taken as published). */
export type RecipeChart = { path: string } | { repo: string; name: string; version: string; sha256?: string };

/** A host package for one OS family. */
export interface RecipePackage {
  name: string;
  version: string;
  source: FileSource;
}

/** A parsed, validated recipe; paths are absolute. */
export interface Recipe {
  file: string;
  name: string;
  version: string;
  arch: string;
  buildTime: string | undefined;
  components: Record<string, string>;
  files: RecipeFile[];
  images: RecipeImage[];
  charts: RecipeChart[];
  packages: Record<string, RecipePackage[]>;
}

type Path = (string | number)[];

/** Parses recipe text; every problem is an E_BUNDLE_RECIPE error pointing at file:line:col. */
export function parseRecipe(text: string, file: string): Recipe {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const at = (path: Path) => {
    const node = doc.getIn(path, true) as Node | undefined;
    const off = node?.range?.[0] ?? 0;
    const pos = lc.linePos(off);
    return { file, line: pos.line, column: pos.col };
  };
  const fail = (path: Path, msg: string, remedy = "fix the recipe; docs/bundle.md describes every field"): never => {
    throw new OmstackError("E_BUNDLE_RECIPE", `${path.length ? path.join(".") + ": " : ""}${msg}`, { remedy, location: at(path) });
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new OmstackError("E_BUNDLE_RECIPE", `YAML syntax error: ${e.message.split("\n")[0]}`, {
      remedy: "fix the YAML syntax",
      location: { file, line: pos.line, column: pos.col },
    });
  }
  const raw = doc.toJS() as unknown;
  if (!isMap(doc.contents) || typeof raw !== "object" || raw === null) fail([], "the recipe must be a mapping");
  const o = raw as Record<string, unknown>;
  const known = new Set(["name", "version", "arch", "buildTime", "components", "files", "images", "charts", "packages"]);
  for (const k of Object.keys(o)) if (!known.has(k)) fail([k], `unknown field "${k}"`);
  const base = dirname(resolve(file));
  const local = (p: string) => (isAbsolute(p) ? p : resolve(base, p));

  const str = (v: unknown, path: Path, re?: RegExp, what?: string): string => {
    if (typeof v === "number") v = String(v);
    if (typeof v !== "string" || v.length === 0) fail(path, "must be a non-empty string");
    if (re && !re.test(v as string)) fail(path, `"${String(v)}" is not ${what ?? `matching ${re}`}`);
    return v as string;
  };
  const obj = (v: unknown, path: Path): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "must be a mapping");
    return v as Record<string, unknown>;
  };
  const list = (v: unknown, path: Path): unknown[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) fail(path, "must be a list");
    return v as unknown[];
  };
  const source = (f: Record<string, unknown>, path: Path): FileSource => {
    const kinds = ["content", "source", "url"].filter((k) => f[k] !== undefined);
    if (kinds.length !== 1) fail(path, "needs exactly one of content:, source: or url: (with sha256:)");
    if (f.content !== undefined) {
      if (typeof f.content !== "string") fail([...path, "content"], "must be a string");
      return { kind: "content", content: f.content as string };
    }
    if (f.source !== undefined) return { kind: "local", path: local(str(f.source, [...path, "source"])) };
    const url = str(f.url, [...path, "url"], /^https?:\/\/\S+$/, "an http(s) URL");
    if (f.sha256 === undefined) fail([...path, "url"], "a downloaded file needs its published sha256: (64 hex digits)", "add sha256: with the checksum the publisher lists");
    if (typeof f.sha256 === "number") fail([...path, "sha256"], "is a number in YAML; write the checksum in quotes", 'quote it: sha256: "0123…"');
    return { kind: "url", url, sha256: str(f.sha256, [...path, "sha256"], /^[0-9a-f]{64}$/, "64 lower-case hex digits") };
  };
  const modeOf = (v: unknown, path: Path, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = typeof v === "string" ? parseInt(v, 8) : typeof v === "number" ? parseInt(String(v), 8) : NaN;
    if (n !== 0o644 && n !== 0o755) fail(path, `mode must be "0644" or "0755", found ${String(v)}`);
    return n;
  };
  const bundlePath = (v: unknown, path: Path): string => {
    const p = str(v, path);
    const problem = pathProblem(p);
    if (problem) fail(path, `"${p}": ${problem}`);
    if (p === "bundle.json" || p === "bundle.json.sig") fail(path, `"${p}" is reserved`);
    if (p.startsWith("images/") || p.startsWith("charts/")) fail(path, `"${p}": images/ and charts/ are filled from images: and charts:`);
    return p;
  };

  const r: Recipe = {
    file,
    name: o.name === undefined ? "omstack" : str(o.name, ["name"], /^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and -"),
    version: str(o.version, ["version"], /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/, "a version like 1.2.0 or 0.1.0-rc.1"),
    arch: str(o.arch ?? "amd64", ["arch"], /^(amd64|arm64)$/, "amd64 or arm64"),
    buildTime: o.buildTime === undefined ? undefined : str(o.buildTime instanceof Date ? o.buildTime.toISOString().replace(/\.\d{3}Z$/, "Z") : o.buildTime, ["buildTime"], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "a UTC time like 2025-01-31T12:00:00Z"),
    components: {},
    files: [],
    images: [],
    charts: [],
    packages: {},
  };
  if (o.components !== undefined) {
    for (const [k, v] of Object.entries(obj(o.components, ["components"]))) r.components[k] = str(v, ["components", k]);
  }
  const claimed = new Set<string>();
  const claim = (p: string, path: Path) => {
    if (claimed.has(p)) fail(path, `"${p}" is placed twice`);
    claimed.add(p);
  };
  list(o.files, ["files"]).forEach((v, i) => {
    const path: Path = ["files", i];
    const f = obj(v, path);
    const p = bundlePath(f.path, [...path, "path"]);
    claim(p, [...path, "path"]);
    if (f.symlink !== undefined) {
      const target = str(f.symlink, [...path, "symlink"]);
      if (resolveLinkTarget(p, target) === null) fail([...path, "symlink"], `"${target}" points outside the bundle`);
      r.files.push({ path: p, symlink: target });
      return;
    }
    r.files.push({ path: p, mode: modeOf(f.mode, [...path, "mode"], p.startsWith("bin/") ? 0o755 : 0o644), source: source(f, path) });
  });
  list(o.images, ["images"]).forEach((v, i) => {
    const path: Path = ["images", i];
    const im = obj(v, path);
    const nameRaw = str(im.name, [...path, "name"]);
    const ref = parseImageRef(nameRaw);
    if (!ref) fail([...path, "name"], `"${nameRaw}" is not an image reference`);
    const name = `${ref!.registry}/${ref!.repository}:${ref!.tag ?? "latest"}`;
    if (im.build !== undefined) {
      const b = obj(im.build, [...path, "build"]);
      const cmd = b.cmd === undefined ? undefined : list(b.cmd, [...path, "build", "cmd"]).map((c, j) => str(c, [...path, "build", "cmd", j]));
      r.images.push({ name, source: { kind: "build", context: local(str(b.context, [...path, "build", "context"])), ...(cmd ? { cmd } : {}) } });
    } else if (im.layout !== undefined) {
      const l = obj(im.layout, [...path, "layout"]);
      const digest = l.digest === undefined ? undefined : str(l.digest, [...path, "layout", "digest"], /^sha256:[0-9a-f]{64}$/, "sha256:<64 hex>");
      r.images.push({ name, source: { kind: "layout", path: local(str(l.path, [...path, "layout", "path"])), ...(digest ? { digest } : {}) } });
    } else {
      if (!ref!.digest) fail([...path, "name"], `"${nameRaw}" is not pinned by digest`, "append @sha256:<digest> (see `crane digest` or the registry UI); bundles never pull by tag");
      r.images.push({ name, source: { kind: "registry", registry: ref!.registry, repository: ref!.repository, digest: ref!.digest! } });
    }
  });
  const names = new Set<string>();
  r.images.forEach((im, i) => {
    if (names.has(im.name)) fail(["images", i, "name"], `image ${im.name} is listed twice`);
    names.add(im.name);
  });
  list(o.charts, ["charts"]).forEach((v, i) => {
    const c = obj(v, ["charts", i]);
    if (c.repo === undefined) {
      r.charts.push({ path: local(str(c.path, ["charts", i, "path"])) });
      return;
    }
    if (c.path !== undefined) fail(["charts", i], "give either path: (a local folder) or repo: (a chart repository), not both");
    const repo = str(c.repo, ["charts", i, "repo"], /^https?:\/\/[^\s]+$/, "an http:// or https:// URL of a Helm chart repository");
    const name = str(c.name, ["charts", i, "name"], /^[a-z0-9][a-z0-9-]*$/, "a chart name (lower-case letters, digits, -)");
    const version = str(c.version, ["charts", i, "version"], /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/, "an exact chart version (quote it if it looks like a number)");
    const sha256 = c.sha256 === undefined ? undefined : str(c.sha256, ["charts", i, "sha256"], /^[0-9a-f]{64}$/, "64 lower-case hex digits");
    r.charts.push({ repo, name, version, ...(sha256 ? { sha256 } : {}) });
  });
  if (o.packages !== undefined) {
    for (const [family, l] of Object.entries(obj(o.packages, ["packages"]))) {
      if (!/^[a-z0-9]+$/.test(family)) fail(["packages", family], "an OS family is lower-case letters and digits (debian, rhel, ...)");
      r.packages[family] = list(l, ["packages", family]).map((v, i) => {
        const path: Path = ["packages", family, i];
        const p = obj(v, path);
        return {
          name: str(p.name, [...path, "name"], /^[A-Za-z0-9][A-Za-z0-9.+_-]*$/, "a package name"),
          version: str(p.version, [...path, "version"], /^[A-Za-z0-9][A-Za-z0-9.+:~_-]*$/, "a package version"),
          source: source(p, path),
        };
      });
    }
  }
  return r;
}

/** Seconds since the epoch for the build: the recipe's buildTime, else SOURCE_DATE_EPOCH, else now. */
export function resolveBuildTime(recipe: Recipe, env: NodeJS.ProcessEnv, now: () => Date = () => new Date()): string {
  if (recipe.buildTime) return recipe.buildTime;
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== "") {
    if (!/^\d+$/.test(sde)) {
      throw new OmstackError("E_BUNDLE_RECIPE", `SOURCE_DATE_EPOCH must be whole seconds since 1970, found "${sde}"`, { remedy: "set SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) or unset it" });
    }
    return new Date(Number(sde) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  return now().toISOString().replace(/\.\d{3}Z$/, "Z");
}
