import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { preflightAndPlan } from "../../plan/pipeline.js";
import { DEFAULT_BUNDLE_VERSIONS } from "../../plan/defaults.js";
import { loadServiceDir } from "../../preflight/services.fs.js";
import { host } from "../../preflight/testing/hosts.js";
import type { DiskFacts } from "../../probe/facts.js";
import { networkProblem, PlanReview, type PlanChoices } from "./PlanReview.js";
import { KEY, press, renderAt, sizeProblems, waitFor } from "../testing.js";

const services = loadServiceDir(join(import.meta.dirname, "../../../../services"));
const disk: DiskFacts = { name: "nvme0n1", sizeBytes: 960 * 10 ** 9, rotational: false, transport: "nvme", type: "disk", model: null, fstype: "xfs", mountpoints: [], children: [] };
const s1 = host("s1", { disks: [disk] });
const planFor = (wipe: string[]) =>
  preflightAndPlan({ inventory: { hosts: [{ name: "s1", wipe }] }, facts: [s1], bundle: { version: "t", ...DEFAULT_BUNDLE_VERSIONS }, services, ignore: [] }).plan;
const base: PlanChoices = { controlPlanes: null, virtualIP: null, adminPassword: "generate", wipe: {}, podSubnet: null, serviceSubnet: null };

describe("PlanReview", () => {
  it("a disk that would be erased needs the cluster name typed before confirming", async () => {
    const plan = planFor(["nvme0n1"]);
    let confirmed = 0;
    const r = renderAt(<PlanReview clusterName="ai-prod" plan={plan} choices={{ ...base, wipe: { s1: ["nvme0n1"] } }} failingChecks={0} adminPasswordSet={false} onChange={() => undefined} onAdminPassword={() => undefined} onConfirm={() => confirmed++} />);
    await press(r.stdin);
    let f = r.lastFrame()!;
    expect(f).toContain("1 disk will be ERASED: s1:/dev/nvme0n1");
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, KEY.enter);
    f = await waitFor(r.lastFrame, (x) => x.includes("Type the cluster name (ai-prod) to confirm"));
    expect(f).toContain("s1: /dev/nvme0n1 894 GiB");
    await press(r.stdin, "ai-pro", KEY.enter);
    expect(r.lastFrame()).toContain('"ai-pro" is not the cluster name');
    expect(confirmed).toBe(0);
    await press(r.stdin, "d", KEY.enter);
    expect(confirmed).toBe(1);
  });

  it("w marks a disk holding data for erasing; c, v and p change the choices; no erasure confirms at once", async () => {
    const changes: PlanChoices[] = [];
    const pw: string[] = [];
    let confirmed = 0;
    const r = renderAt(<PlanReview clusterName="c1" plan={planFor([])} choices={base} failingChecks={0} adminPasswordSet={false} onChange={(c) => changes.push(c)} onAdminPassword={(p) => pw.push(p)} onConfirm={() => confirmed++} />);
    await press(r.stdin);
    expect(r.lastFrame()).toContain("No disk will be erased");
    expect(r.lastFrame()).toContain("Admin password: generated when you start the install, shown once here");
    await press(r.stdin, "w");
    await waitFor(r.lastFrame, (x) => x.includes("Disks that hold data"));
    await press(r.stdin, "x", KEY.enter);
    expect(changes.at(-1)!.wipe).toEqual({ s1: ["nvme0n1"] });
    await press(r.stdin, "c");
    expect(changes.at(-1)!.controlPlanes).toBe(1);
    await press(r.stdin, "v");
    await waitFor(r.lastFrame, (x) => x.includes("Virtual IP of the intranet proxy"));
    await press(r.stdin, "10.0.0.999", KEY.enter);
    expect(r.lastFrame()).toContain('"10.0.0.999" is not an IPv4 or IPv6 address');
    await press(r.stdin, ...Array(3).fill(KEY.backspace), "250", KEY.enter);
    expect(changes.at(-1)!.virtualIP).toBe("10.0.0.250");
    await press(r.stdin, "p");
    await waitFor(r.lastFrame, (x) => x.includes("type a password now"));
    await press(r.stdin, "2");
    await waitFor(r.lastFrame, (x) => x.includes("Admin password (min 12)"));
    await press(r.stdin, "short", KEY.enter);
    expect(r.lastFrame()).toContain("the password has 5 characters; at least 12 are needed");
    await press(r.stdin, "correct horse battery", KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("Type it again"));
    await press(r.stdin, "correct horse battery", KEY.enter);
    expect(pw).toEqual(["correct horse battery"]);
    expect(r.lastFrame()).not.toContain("correct horse");
    await press(r.stdin, KEY.enter);
    expect(confirmed).toBe(1);
  });

  it("refuses to confirm while checks fail under the current choices", async () => {
    let confirmed = 0;
    const r = renderAt(<PlanReview clusterName="c1" plan={planFor([])} choices={base} failingChecks={2} adminPasswordSet={false} onChange={() => undefined} onAdminPassword={() => undefined} onConfirm={() => confirmed++} />);
    await press(r.stdin, KEY.enter);
    expect(r.lastFrame()).toContain("2 preflight check(s) fail with these choices");
    expect(confirmed).toBe(0);
  });

  it("shows a generated password once, with the user; Enter starts the install, Esc goes back to the plan", async () => {
    let started = 0;
    let back = 0;
    const props = { clusterName: "c1", plan: planFor([]), choices: base, failingChecks: 0, adminPasswordSet: true, onChange: () => undefined, onAdminPassword: () => undefined, onConfirm: () => undefined, onStart: () => started++, onPasswordBack: () => back++ };
    const r = renderAt(<PlanReview {...props} generatedPassword={{ user: "admin", password: "Zq9-generated-pw-Xy" }} />);
    const f = await waitFor(r.lastFrame, (x) => x.includes("password: Zq9-generated-pw-Xy"));
    expect(f).toContain("user:     admin");
    expect(f).toContain("shown this once, stored nowhere in");
    expect(f).toContain("Enter: written down, start the install");
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, KEY.esc);
    expect(back).toBe(1);
    expect(started).toBe(0);
    await press(r.stdin, KEY.enter);
    expect(started).toBe(1);
    r.rerender(<PlanReview {...props} generatedPassword={null} />);
    await press(r.stdin);
    expect(r.lastFrame()).not.toContain("Zq9-generated-pw-Xy");
  });

  it("n sets the pod and service networks: each checked as typed, together, and against the hosts' addresses", async () => {
    const changes: PlanChoices[] = [];
    const plan = planFor([]);
    const r = renderAt(<PlanReview clusterName="c1" plan={plan} choices={base} failingChecks={0} adminPasswordSet={false} onChange={(c) => changes.push(c)} onAdminPassword={() => undefined} onConfirm={() => undefined} />);
    await press(r.stdin);
    expect(r.lastFrame()).toContain(`Networks: pods ${plan.cluster.podSubnet}, services ${plan.cluster.serviceSubnet} (defaults; n changes)`);
    await press(r.stdin, "n");
    let f = await waitFor(r.lastFrame, (x) => x.includes("Pod network (CIDR): "));
    expect(f).toContain("empty: 10.244.0.0/16 (default)");
    expect(sizeProblems(f)).toEqual([]);
    await press(r.stdin, "198.19.128.1/17", KEY.enter);
    expect(r.lastFrame()).toContain('pod network "198.19.128.1/17": host bits are set');
    await press(r.stdin, KEY.backspace, KEY.backspace, KEY.backspace, KEY.backspace, "0/17", KEY.enter);
    await waitFor(r.lastFrame, (x) => x.includes("Service network (CIDR): "));
    await press(r.stdin, "198.19.192.0/20", KEY.enter);
    expect(r.lastFrame()).toContain("the service network 198.19.192.0/20 overlaps the pod network 198.19.128.0/17");
    expect(changes).toEqual([]);
    await press(r.stdin, ...Array(8).fill(KEY.backspace), "16.0/20", KEY.enter);
    expect(changes.at(-1)).toEqual({ ...base, podSubnet: "198.19.128.0/17", serviceSubnet: "198.19.16.0/20" });
    f = await waitFor(r.lastFrame, (x) => x.includes("Up/Down/PgUp/PgDn scroll"));
    // Esc leaves the prompt without a change
    await press(r.stdin, "n");
    await waitFor(r.lastFrame, (x) => x.includes("Pod network (CIDR): "));
    await press(r.stdin, KEY.esc);
    await waitFor(r.lastFrame, (x) => x.includes("Up/Down/PgUp/PgDn scroll"));
    expect(changes).toHaveLength(1);
  });

  it("networkProblem: the config's CIDR rules, no overlap, no host address inside either range", () => {
    expect(networkProblem("198.19.128.0/17", "198.19.16.0/20", ["198.19.0.11", null, "fe80::1"])).toBeNull();
    expect(networkProblem("10.0.0.0/8", "10.96.0.0/12", [])).toBe("the service network 10.96.0.0/12 overlaps the pod network 10.0.0.0/8");
    expect(networkProblem("198.19.0.0/16", "10.96.0.0/12", ["198.19.0.11"])).toBe("the pod network 198.19.0.0/16 contains the host address 198.19.0.11");
    expect(networkProblem("10.244.0.0/16", "198.19.0.0/20", ["198.19.0.12"])).toBe("the service network 198.19.0.0/20 contains the host address 198.19.0.12");
    expect(networkProblem("10.244.0.0/24", "10.96.0.0/12", [])).toMatch(/^pod network "10.244.0.0\/24": the prefix must be between \/8 and \/22/);
    expect(networkProblem("10.244.0.0/16", "nonsense", [])).toBe('service network "nonsense": not an IPv4 CIDR');
  });
});
