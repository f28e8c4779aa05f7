// Recording fakes of the admin ports: an upgrade engine that reports scripted progress, a host gatherer.
import type { PreflightOutcome, SupportFile, SupportPort, UpgradeEvent, UpgradePort, VerifiedBundle } from "../ports.js";

/** Upgrade engine that walks scripted steps, reporting progress; fails at `failAt` when set. */
export class FakeUpgrade implements UpgradePort {
  readonly calls: { method: "preflight" | "run"; version: string }[] = [];
  constructor(
    private readonly opts: { steps?: { id: string; title: string }[]; stepMs?: number; failAt?: string; rolledBack?: boolean; preflight?: PreflightOutcome[] } = {},
  ) {}

  async preflight(bundle: VerifiedBundle): Promise<PreflightOutcome[]> {
    this.calls.push({ method: "preflight", version: bundle.version });
    return this.opts.preflight ?? [
      { id: "disk-space", status: "pass", message: "every node has room for the new images", remedy: null },
      { id: "etcd-health", status: "pass", message: "etcd is healthy", remedy: null },
    ];
  }

  async run(bundle: VerifiedBundle, report: (e: UpgradeEvent) => void): Promise<void> {
    this.calls.push({ method: "run", version: bundle.version });
    const steps = this.opts.steps ?? [
      { id: "bundle.distribute", title: "Distribute images to the nodes" },
      { id: "k8s.upgrade-control-plane", title: "Upgrade the control plane" },
      { id: "services.upgrade", title: "Upgrade the platform services" },
    ];
    for (const [i, s] of steps.entries()) {
      report({ type: "step-start", stepId: s.id, title: s.title });
      await new Promise((r) => setTimeout(r, this.opts.stepMs ?? 10));
      report({ type: "step-log", stepId: s.id, line: `${s.id}: working on ${bundle.name} ${bundle.version}` });
      if (this.opts.failAt === s.id) {
        report({ type: "step-failed", stepId: s.id, message: "scripted failure" });
        throw Object.assign(new Error(`${s.id} failed (scripted)`), { rolledBack: this.opts.rolledBack ?? false });
      }
      report({ type: "step-done", stepId: s.id });
      report({ type: "progress", percent: ((i + 1) / steps.length) * 100, message: `${i + 1} of ${steps.length} steps done` });
    }
  }
}

/** Host gatherer that returns the given files and counts calls. */
export class FakeSupport implements SupportPort {
  calls = 0;
  constructor(private readonly files: SupportFile[] = [{ path: "hosts/gpu-01/nvidia-smi-q.txt", content: "(gathered by the fake)\n" }]) {}
  async gather(): Promise<SupportFile[]> {
    this.calls++;
    return this.files;
  }
}
