// The bundle as install steps see it: local copies of its files (verified at extraction) and its image list.
/** One file of the extracted bundle: its path in the bundle, where it is on this machine, and its manifest sha256. */
export interface BundlePart {
  path: string;
  source: string;
  sha256: string;
  size: number;
  mode: number;
}

/** An image of the bundle: its full name, the manifest digest stored in images/, and the blobs it needs. */
export interface BundlePartImage {
  name: string;
  digest: string;
  blobs: string[];
}

/** A Helm chart of the bundle (bundle.json charts[]): its archive is the file at `path` (see part()). */
export interface BundlePartChart {
  name: string;
  version: string;
  path: string;
}

/** An OS package of the bundle (bundle.json packages[family][]): its file is the part at `path`. */
export interface BundlePartPackage {
  name: string;
  version: string;
  path: string;
}

/** What steps read from the bundle; built once by the install command from the extracted, verified folder. */
export interface BundleParts {
  version: string;
  /** The file at `path` in the bundle, or null when the bundle has none. */
  part(path: string): BundlePart | null;
  images: BundlePartImage[];
  /** The bundle's charts (absent = none; the services step installs the ones the plan enables). */
  charts?: BundlePartChart[];
  /** The bundle's OS packages by family ("debian", "rhel"); absent = none (host.packages then only checks the runtime). */
  packages?: Record<string, BundlePartPackage[]>;
}

/** The image whose repository ends in /pause (the sandbox image containerd and kubeadm use), if the bundle has one. */
export function pauseImage(parts: BundleParts): string | null {
  return parts.images.find((i) => /(^|\/)pause:[^/]+$/.test(i.name))?.name ?? null;
}
