// Proof of storage.lvm-volume-groups on a real kernel: the qemu VM (vm.sh up), reached over SSH by the installer's own
// SshConnector and run through the real executor. Phases:
//   refuse  a disk with an ext4 filesystem and wipe: false → E_LVM_DISK_IN_USE, and no disk of the host changed
//   apply   vdb (empty, wipe: false) + vdc (GPT + ext4 partition, wipe: true) → VG omstack-data holds exactly both
//   again   the same execute → skipped (journal + check)
//   reboot  systemctl reboot, wait for SSH → the VG is back, check says done, execute skips again
//   extend  the plan now gives vdd (ext4) with wipe: true to the same VG → erased, vgextend, 3 PVs
// Until the extend phase vdd (ext4) is never touched: its first MiB keeps its sha256.
//
//   npx tsx tests/lab/vm/prove-lvm.ts [--fixtures DIR]   (root; the VM must be up: tests/lab/vm/vm.sh up)
// Exit 0 when every assertion held; prints one line per phase with its duration.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AggregateOmstackError } from "../../../installer/src/errors.js";
import { sessionHandle, sessionHosts } from "../../../installer/src/executor/contexts.js";
import { execute, type ExecuteResult } from "../../../installer/src/executor/executor.js";
import { testNode, testPlan } from "../../../installer/src/plan/testing.js";
import type { Plan, PlanDisk } from "../../../installer/src/plan/types.js";
import { soloReader } from "../../../installer/src/executor/testing/solo.js";
import { storageLvmVolumeGroups } from "../../../installer/src/steps/storage/lvm-volume-groups.js";
import { PVS_COMMAND, VGS_COMMAND, LSBLK_COLUMNS } from "../../../installer/src/steps/storage/lvm-report.js";
import { HOST, check, timer, vm, vmConnection, vmCtl } from "./harness.js";

const args = process.argv.slice(2);
const fixturesDir = args[0] === "--fixtures" ? args[1] : undefined;

const disk = (name: string, use: string | null, wipe: boolean, reason: string): PlanDisk => ({ name, sizeBytes: 2 * 2 ** 30, class: "unknown", use, wipe, reason });

async function main(): Promise<void> {
  const { spec, connector } = await vmConnection();
  const work = mkdtempSync(join(tmpdir(), "omstack-prove-lvm-"));
  const hosts = sessionHosts(() => connector.open(spec), { opMs: 120_000 });
  const exec = (plan: Plan, stateDir: string, dryRun = false): Promise<ExecuteResult> =>
    execute<Plan>({ steps: [storageLvmVolumeGroups()], plan, hosts, stateDir: join(work, stateDir), dryRun, hostLockDir: false, onEvent: (e) => { if (e.type === "step-planned") for (const l of e.lines) console.log(`    | ${l}`); if (e.type === "step-note") console.log(`    note: ${e.message}`); } });
  const capture = (name: string, text: string) => {
    if (!fixturesDir) return;
    mkdirSync(fixturesDir, { recursive: true });
    writeFileSync(join(fixturesDir, name), text);
  };
  const { timings, timed } = timer();

  // ---- fresh disks: vdb empty, vdc GPT with an ext4 partition, vdd one ext4 filesystem ----
  const clean = await vm("pvs --noheadings -o pv_name; lsblk -n -o NAME /dev/vdb /dev/vdc /dev/vdd; wipefs --no-act /dev/vdb /dev/vdc /dev/vdd");
  check(clean.trim().split("\n").sort().join(" ") === "vdb vdc vdd", `the VM starts with three empty disks (vm.sh up makes them fresh): ${JSON.stringify(clean)}`);
  await vm("printf 'label: gpt\\n,512M\\n,\\n' | sfdisk -q /dev/vdc >/dev/null && udevadm settle && mkfs.ext4 -q /dev/vdc1 && mkfs.ext4 -q /dev/vdd && udevadm settle");
  capture("lsblk-partitioned.json", await vm(`lsblk --json -o ${LSBLK_COLUMNS} /dev/vdc`));
  capture("wipefs-gpt.json", await vm("wipefs --no-act --json /dev/vdc"));
  const vddSum = async () => (await vm("head -c 1048576 /dev/vdd | sha256sum")).split(" ")[0]!;
  const vddBefore = await vddSum();
  const vdcBefore = await vm("wipefs --no-act --json /dev/vdc");

  // ---- refuse: vdd holds ext4 and the plan says wipe: false ----
  console.log("phase refuse");
  const refusePlan = testPlan([testNode(HOST, { disks: [disk("vda", null, false, "left alone: holds the running system (/)"), disk("vdb", "omstack-data", false, "empty"), disk("vdd", "omstack-local", false, "operator's choice (test)")] })]);
  const refused = await timed("refuse", () => exec(refusePlan, "state-refuse"));
  const refusal = refused.error instanceof AggregateOmstackError ? refused.error.errors[0] : undefined;
  check(refused.status === "failed" && refusal?.code === "E_LVM_DISK_IN_USE", `execute fails with E_LVM_DISK_IN_USE: ${refusal?.message}`);
  check((await vddSum()) === vddBefore, "vdd's first MiB is unchanged (sha256)");
  check((await vm("pvs --noheadings -o pv_name")).trim() === "", "no PV was created on vdb either: every refusal is found before anything changes");

  // ---- apply: vdb + vdc into omstack-data; vdc erased because the plan says wipe: true ----
  console.log("phase apply (dry-run first)");
  const plan = testPlan([
    testNode(HOST, {
      disks: [disk("vda", null, false, "left alone: holds the running system (/)"), disk("vdb", "omstack-data", false, "empty"), disk("vdc", "omstack-data", true, "will be ERASED (listed under wipe:; holds 2 partitions)"), disk("vdd", null, false, "left alone: in use (a ext4 filesystem)")],
    }),
  ]);
  const dry = await exec(plan, "state", true);
  check(dry.outcomes.every((o) => o.status === "planned-apply"), "dry-run plans the apply and changes nothing");
  check((await vm("wipefs --no-act --json /dev/vdc")) === vdcBefore, "vdc still holds its partition table after the dry-run");
  const applied = await timed("apply", () => exec(plan, "state"));
  check(applied.status === "succeeded" && applied.outcomes[0]?.status === "verified", `execute succeeds, verified (${applied.error?.format() ?? "no error"})`);
  const pvsText = await vm(PVS_COMMAND);
  const vgsText = await vm(VGS_COMMAND);
  capture("pvs-omstack-data.json", pvsText);
  capture("vgs-omstack-data.json", vgsText);
  const pvs = JSON.parse(pvsText).report[0].pv as { pv_name: string; vg_name: string }[];
  check(JSON.stringify(pvs.map((p) => [p.pv_name, p.vg_name]).sort()) === JSON.stringify([["/dev/vdb", "omstack-data"], ["/dev/vdc", "omstack-data"]]), `pvs: exactly vdb and vdc in omstack-data: ${JSON.stringify(pvs)}`);
  check((await vm("lsblk -n -o NAME /dev/vdc")).trim() === "vdc", "vdc's partitions are gone (erased as planned)");
  check((await vddSum()) === vddBefore, "vdd (not in the plan) is unchanged");

  console.log("phase again");
  const again = await timed("again", () => exec(plan, "state"));
  check(again.status === "succeeded" && again.outcomes[0]?.status === "skipped", `second execute skips the step (${again.outcomes[0]?.status})`);

  console.log("phase reboot");
  await timed("reboot", async () => {
    await vm("systemctl reboot", [0, 255]);
    for (let i = 0; i < 60; i++) {
      try {
        await vm("true");
        await new Promise((r) => setTimeout(r, 1000));
      } catch {
        break;
      }
    }
    await vmCtl("wait-ssh", "400");
  });
  check((await vm("vgs --noheadings -o vg_name,pv_count")).trim().replace(/\s+/g, " ") === "omstack-data 2", "after the reboot, vgs shows omstack-data with 2 PVs");
  const session = await connector.open(spec);
  const reader = soloReader(sessionHandle(HOST, session).reader({ log: () => {}, note: () => {} }));
  const step = storageLvmVolumeGroups();
  step.targets(plan);
  const verdict = await timed("check-after-reboot", () => step.check(reader));
  session.close();
  check(verdict === "done", `the step's check says done after the reboot (${JSON.stringify(verdict)})`);
  const afterReboot = await timed("again-after-reboot", () => exec(plan, "state"));
  check(afterReboot.outcomes[0]?.status === "skipped", "execute after the reboot skips the step");
  check((await vddSum()) === vddBefore, "vdd is still unchanged");

  // ---- extend: the plan now also gives vdd (ext4, wipe: true) to omstack-data → erased, vgextend ----
  console.log("phase extend");
  const bigger = testPlan([
    testNode(HOST, {
      disks: [disk("vda", null, false, "left alone: holds the running system (/)"), disk("vdb", "omstack-data", false, "empty"), disk("vdc", "omstack-data", true, "will be ERASED"), disk("vdd", "omstack-data", true, "will be ERASED (listed under wipe:; holds a ext4 filesystem)")],
    }),
  ]);
  const extended = await timed("extend", () => exec(bigger, "state"));
  check(extended.status === "succeeded" && extended.outcomes[0]?.status === "verified", `the changed plan (inputs differ) applies again: vdd erased and added (${extended.error?.format() ?? "no error"})`);
  check((await vm("vgs --noheadings -o vg_name,pv_count")).trim().replace(/\s+/g, " ") === "omstack-data 3", "vgs: omstack-data now has 3 PVs (vgextend)");
  check((await vm("wipefs --no-act --json /dev/vdd")).includes('"LVM2_member"') && !(await vm("wipefs --no-act --json /dev/vdd")).includes('"ext4"'), "vdd's ext4 signature is gone, it carries an LVM label");

  console.log(`TIMINGS ${JSON.stringify(timings)}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
