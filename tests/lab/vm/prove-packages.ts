// Proof of host.packages on a real Debian 12 (the qemu VM, vm.sh up: no containerd, runc or CNI plugins) with the lab
// bundle's .debs, reached by the installer's own SshConnector and run through the real executor. Phases:
//   before   containerd, runc, /usr/lib/cni/bridge absent; dry-run lists what would be installed, changes nothing
//   apply    execute → verified: containerd, runc on PATH, CNI plugins in /usr/lib/cni, every package ≥ bundle's,
//            the staging folder removed
//   again    a second execute skips (journal + check)
//
//   npx tsx tests/lab/vm/prove-packages.ts --bundle DIR   (DIR: `omstack bundle extract --trust … --to DIR`)
// Exit 0 when every assertion held; prints one line per phase with its duration.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionHosts } from "../../../installer/src/executor/contexts.js";
import { execute, type ExecuteResult } from "../../../installer/src/executor/executor.js";
import { testNode, testPlan } from "../../../installer/src/plan/testing.js";
import type { Plan } from "../../../installer/src/plan/types.js";
import { parseManifest } from "../../../installer/src/bundle/manifest.js";
import { bundlePartsOf } from "../../../installer/src/cli/installBundle.js";
import { hostPackages, PACKAGES_STAGING_ROOT } from "../../../installer/src/steps/host/packages.js";
import { HOST, check, timer, vm, vmConnection } from "./harness.js";

const args = process.argv.slice(2);
const bundleDir = args[0] === "--bundle" ? args[1] : undefined;

async function main(): Promise<void> {
  if (!bundleDir) throw new Error("usage: prove-packages.ts --bundle DIR (an extracted lab bundle)");
  const parts = bundlePartsOf(bundleDir, parseManifest(readFileSync(join(bundleDir, "bundle.json"))));
  const debs = parts.packages?.debian ?? [];
  check(debs.length > 0 && debs.some((p) => p.name === "containerd"), `the bundle carries ${debs.length} Debian packages including containerd`);
  const { spec, connector } = await vmConnection();
  const work = mkdtempSync(join(tmpdir(), "omstack-prove-packages-"));
  const hosts = sessionHosts(() => connector.open(spec), { opMs: 900_000 });
  const plan: Plan = testPlan([testNode(HOST)]);
  const exec = (stateDir: string, dryRun = false): Promise<ExecuteResult> =>
    execute<Plan>({
      steps: [hostPackages({ parts })],
      plan,
      hosts,
      stateDir: join(work, stateDir),
      dryRun,
      hostLockDir: false,
      onEvent: (e) => {
        if (e.type === "step-planned") for (const l of e.lines) console.log(`    | ${l}`);
        if (e.type === "step-note") console.log(`    note: ${e.message}`);
      },
    });
  const { timings, timed } = timer();

  console.log("phase before");
  check((await vm("command -v containerd runc; ls /usr/lib/cni/bridge", [0, 1, 2])).trim() === "", "the VM has no containerd, runc or /usr/lib/cni/bridge");
  const dry = await timed("dry-run", () => exec("state", true));
  check(dry.outcomes.every((o) => o.status === "planned-apply"), "dry-run plans the install");
  check((await vm("command -v containerd", [0, 1])).trim() === "", "dry-run installed nothing");

  console.log("phase apply");
  const applied = await timed("apply", () => exec("state"));
  check(applied.status === "succeeded" && applied.outcomes[0]?.status === "verified", `execute succeeds, verified (${applied.error?.format() ?? "no error"})`);
  check((await vm("command -v containerd && command -v runc")).trim().split("\n").length === 2, "containerd and runc are on PATH");
  check((await vm("ls /usr/lib/cni")).split("\n").filter((l) => ["bridge", "host-local", "loopback", "portmap"].includes(l)).length === 4, "the CNI plugins bridge, host-local, loopback, portmap are in /usr/lib/cni");
  console.log(`    ${(await vm("containerd --version; runc --version | head -1")).trim().replace(/\n/g, "\n    ")}`);
  check((await vm(`test -e ${PACKAGES_STAGING_ROOT}/${parts.version} && echo present || echo gone`)).trim() === "gone", "the staging folder was removed");

  console.log("phase again");
  const again = await timed("again", () => exec("state"));
  check(again.status === "succeeded" && again.outcomes[0]?.status === "skipped", `second execute skips the step (${again.outcomes[0]?.status})`);
  const dpkgLog = async () => (await vm("wc -l < /var/log/dpkg.log")).trim();
  const logBefore = await dpkgLog();
  const fresh = await timed("fresh-state", () => exec("state-fresh"));
  check(fresh.outcomes[0]?.status === "verified" && (await dpkgLog()) === logBefore, `with no journal the step applies again but installs nothing: /var/log/dpkg.log unchanged (${logBefore} lines)`);

  console.log(`TIMINGS ${JSON.stringify(timings)}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
