import { describe, expect, it } from "vitest";
import { Welcome, type BundleView, type WelcomeChoice } from "./Welcome.js";
import { isAscii, KEY, press, renderAt, sizeProblems, tick } from "../testing.js";

const bundle: BundleView = { status: "ok", path: "/srv/omstack-2026.1-amd64.tar", name: "omstack", version: "2026.1", arch: "amd64", components: { kubernetes: "1.33.4", containerd: "2.1.4", cuda: "12.8" }, images: 41, charts: 9, packages: 23, bytes: 12 * 2 ** 30 };

describe("Welcome", () => {
  it("shows the bundle, the state directory, and takes the cluster name", async () => {
    const got: WelcomeChoice[] = [];
    const r = renderAt(<Welcome bundle={bundle} stateDir="/var/lib/omstack" previousRun={null} clusterName="omstack" onNext={(c) => got.push(c)} />);
    await tick();
    const f = r.lastFrame()!;
    expect(f).toContain("Bundle: omstack 2026.1 (amd64), 12.0 GiB");
    expect(f).toContain("kubernetes 1.33.4, containerd 2.1.4, cuda 12.8");
    expect(f).toContain("41 images, 9 Helm charts, 23 host packages");
    expect(f).toContain("State directory: /var/lib/omstack");
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, ...Array(7).fill(KEY.backspace), "ai-prod", KEY.enter);
    expect(got).toEqual([{ kind: "new", clusterName: "ai-prod" }]);
  });

  it("refuses a bad cluster name with the rule, and shows an unreadable bundle with its fix", async () => {
    const got: WelcomeChoice[] = [];
    const bad: BundleView = { status: "error", path: "/tmp/x.tar", message: "bundle.json is invalid: version must be a non-empty string", remedy: "rebuild the bundle" };
    const r = renderAt(<Welcome bundle={bad} stateDir="/s" previousRun={null} clusterName="" onNext={(c) => got.push(c)} />);
    await press(r.stdin, "AI Prod", KEY.enter);
    const f = r.lastFrame()!;
    expect(f).toContain("Bundle: /tmp/x.tar cannot be used: bundle.json is invalid");
    expect(f).toContain("fix: rebuild the bundle");
    expect(f).toContain('"AI Prod" is not a valid cluster name');
    expect(got).toEqual([]);
  });

  it("offers to resume an unfinished run", async () => {
    const got: WelcomeChoice[] = [];
    const r = renderAt(<Welcome bundle={{ status: "none" }} stateDir="/s" previousRun={{ runId: 7, startedAt: "2026-01-05 10:12", status: "interrupted", stepsDone: 14, stepsTotal: 31 }} clusterName="c1" onNext={(c) => got.push(c)} />, { ascii: true });
    await tick();
    const f = r.lastFrame()!;
    expect(f).toContain("run 7, started 2026-01-05 10:12) is interrupted: 14/31 steps");
    expect(isAscii(f)).toBe(true);
    await press(r.stdin, KEY.enter);
    expect(got).toEqual([{ kind: "resume", runId: 7 }]);
  });
});
