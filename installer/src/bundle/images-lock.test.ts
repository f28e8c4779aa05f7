import { describe, expect, it } from "vitest";
import { OmstackError } from "../errors.js";
import { parseLock, refsInYaml, renderLock, unlockedRefs, type FoundRef } from "./images-lock.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;

describe("refsInYaml", () => {
  it("finds literal image: lines in templates and skips templated ones", () => {
    const t = 'containers:\n  - name: a\n    image: "nginx:1.27"\n  - image: {{ .Values.image }}\n  - image: "{{ .Values.x }}:1"\n';
    expect(refsInYaml(t, true)).toEqual(["nginx:1.27"]);
  });
  it("finds image strings and repository/tag maps in values and manifests", () => {
    const v = "image:\n  repository: omstack.local/test/hello\n  tag: '1.0'\nsidecar:\n  image: busybox:1.36\n---\nspec:\n  containers:\n    - image: quay.io/x/y@" + D("a") + "\n";
    expect(refsInYaml(v, false).sort()).toEqual(["busybox:1.36", "omstack.local/test/hello:1.0", `quay.io/x/y@${D("a")}`]);
  });
});

describe("lock", () => {
  const refs: FoundRef[] = [
    { ref: "omstack.local/test/hello:1.0", name: "omstack.local/test/hello:1.0", digest: undefined, file: "bundle/charts/t/values.yaml", usedBy: "bundle/charts/t" },
    { ref: "busybox:1.36", name: "docker.io/library/busybox:1.36", digest: undefined, file: "manifests/x.yaml", usedBy: "manifests/x.yaml" },
  ];
  const text = renderLock([{ name: "omstack.local/test/hello:1.0", digest: D("b"), platform: "linux/amd64" }], refs);

  it("renders a header saying it is generated, and parses back", () => {
    expect(text.split("\n")[0]).toMatch(/generated .* do not edit/);
    expect(parseLock(text)).toEqual([{ name: "omstack.local/test/hello:1.0", reference: `omstack.local/test/hello:1.0@${D("b")}`, digest: D("b"), platforms: ["linux/amd64"], usedBy: ["bundle/charts/t"] }]);
  });

  it("reports references the lock does not hold, and pinned digests that differ", () => {
    expect(unlockedRefs(parseLock(text), refs).map((r) => r.ref)).toEqual(["busybox:1.36"]);
    const pinnedOther = { ...refs[0]!, digest: D("c") };
    expect(unlockedRefs(parseLock(text), [pinnedOther])).toHaveLength(1);
  });

  it("refuses a hand-written lock without the header", () => {
    expect(() => parseLock("images: []\n")).toThrow(OmstackError);
  });
});
