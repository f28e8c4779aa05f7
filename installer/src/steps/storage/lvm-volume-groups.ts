// storage.lvm-volume-groups: LVM volume groups on exactly the disks the plan chose — pvcreate + vgcreate/vgextend,
// erasing a disk first only when the plan says `wipe: true` for it, and refusing (untouched) any other disk that holds
// something. Never names a disk outside the plan in any command.
import { OmstackError } from "../../errors.js";
import type { Plan, PlanNode } from "../../plan/types.js";
import { shq } from "../shell.js";
import type { CheckResult, ReadCtx, Step } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import { decideDisks, groupsOf, plannedDisks, refusalError, volumeGroupGaps, type DiskSurvey, type PlannedDisk } from "./lvm-layout.js";
import { LSBLK_COLUMNS, PVS_COMMAND, VGS_COMMAND, parseLsblkJson, parsePvsJson, parseVgsJson, parseWipefsJson, type PvRow, type VgRow } from "./lvm-report.js";

export const STEP_ID = "storage.lvm-volume-groups";

/** Tools the step runs (lvm2 and util-linux); checked in one round trip before anything else. */
export const LVM_TOOLS: readonly string[] = ["pvs", "vgs", "pvcreate", "vgcreate", "vgextend", "wipefs", "lsblk"];

/** Marker the availability script prints when the kernel has no device-mapper. */
const NO_DM = "@no-device-mapper";

/** One read-only script: prints each missing tool, and NO_DM when neither /dev/mapper/control nor /proc/misc shows device-mapper. */
export const AVAILABILITY_SCRIPT = `for t in ${LVM_TOOLS.join(" ")}; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done; [ -e /dev/mapper/control ] || grep -qw device-mapper /proc/misc 2>/dev/null || echo ${NO_DM}; true`;

/** What the availability script's output says is missing, as a sentence, or null when LVM can work here. */
export function lvmUnavailable(output: string): string | null {
  const words = output.split(/\s+/).filter(Boolean);
  const tools = words.filter((w) => w !== NO_DM);
  const why: string[] = [];
  if (tools.length) why.push(`the tools ${tools.join(", ")} are not installed`);
  if (words.includes(NO_DM)) why.push("the kernel has no device-mapper (no /dev/mapper/control, no device-mapper in /proc/misc)");
  return why.length ? why.join("; ") : null;
}

const TIMEOUT = { timeoutMs: 120_000 };
const dev = (name: string) => `/dev/${name}`;
const devs = (names: readonly string[]) => names.map((n) => shq(dev(n))).join(" ");

interface LvmState {
  devnums: Map<string, string | null>;
  pvs: PvRow[];
  vgs: VgRow[];
}

async function readState(ctx: ReadCtx, disks: readonly PlannedDisk[]): Promise<LvmState> {
  const devnums = new Map<string, string | null>();
  for (const d of disks) {
    const raw = (await ctx.readText(`/sys/class/block/${d.name}/dev`))?.trim() ?? null;
    devnums.set(d.name, raw && /^\d+:\d+$/.test(raw) ? raw : null);
  }
  const pvs = parsePvsJson((await ctx.query(PVS_COMMAND, TIMEOUT)).stdout);
  const vgs = parseVgsJson((await ctx.query(VGS_COMMAND, TIMEOUT)).stdout);
  return { devnums, pvs, vgs };
}

async function survey(ctx: ReadCtx, disk: PlannedDisk, devnum: string | null): Promise<DiskSurvey> {
  if (devnum === null) return { devnum, tree: null, signatures: [] };
  const tree = parseLsblkJson((await ctx.query(`lsblk --json -o ${LSBLK_COLUMNS} ${shq(dev(disk.name))}`, TIMEOUT)).stdout);
  const signatures = parseWipefsJson((await ctx.query(`wipefs --no-act --json ${shq(dev(disk.name))}`, TIMEOUT)).stdout);
  return { devnum, tree, signatures };
}

/** Builds the step; each node's disks come from the plan (`disks[].use` = volume group, `wipe`), read in targets/inputs. */
export function storageLvmVolumeGroups(opts: { hosts?: (plan: Plan) => string[] } = {}): Step<Plan> {
  const nodes = new Map<string, PlanNode>();
  const remember = (plan: Plan) => {
    for (const n of plan.nodes) nodes.set(n.host, n);
  };
  const disksFor = (host: string): PlannedDisk[] => {
    const node = nodes.get(host);
    if (!node) throw new OmstackError("E_STEP_CONFIG", `${host}: ${STEP_ID} has no plan node for this host`, { host, remedy: "this is a bug: the executor must ask a step for its targets before running it; please report it" });
    return plannedDisks(node);
  };
  const unavailable = async (ctx: ReadCtx) => lvmUnavailable((await ctx.query(AVAILABILITY_SCRIPT, TIMEOUT)).stdout);
  const gaps = async (ctx: ReadCtx): Promise<string[]> => {
    const disks = disksFor(ctx.host);
    const s = await readState(ctx, disks);
    return volumeGroupGaps(disks, s.devnums, s.pvs, s.vgs);
  };

  return {
    id: STEP_ID,
    title: "Create LVM volume groups on the disks the plan chose",
    targets: (plan) => {
      remember(plan);
      const hosts = opts.hosts ? new Set(opts.hosts(plan)) : null;
      return plan.nodes.filter((n) => (!hosts || hosts.has(n.host)) && plannedDisks(n).length > 0).map((n) => n.host);
    },
    inputs: (host, plan) => {
      remember(plan);
      return disksFor(host);
    },
    async check(ctx): Promise<CheckResult> {
      const why = await unavailable(ctx);
      if (why) return { pending: `LVM cannot work here yet: ${why}` };
      const g = await gaps(ctx);
      return g.length ? { pending: g.join("; ") } : "done";
    },
    async apply(ctx) {
      const disks = disksFor(ctx.host);
      const why = await unavailable(ctx);
      if (why) {
        throw new OmstackError("E_LVM_UNAVAILABLE", `${ctx.host}: the plan puts ${disks.map((d) => d.name).join(", ")} into LVM volume groups, but ${why}`, {
          host: ctx.host,
          remedy: "install lvm2 (Debian/Ubuntu: apt-get install lvm2; RHEL/openEuler: dnf install lvm2) and make sure the kernel has device-mapper (modprobe dm_mod), then run the install again",
        });
      }
      const state = await readState(ctx, disks);
      const surveys = new Map<string, DiskSurvey>();
      for (const d of disks) {
        const pv = state.pvs.find((p) => p.vgName === d.vg && (p.devnum === state.devnums.get(d.name) || p.pvName === dev(d.name)));
        surveys.set(d.name, pv ? { devnum: state.devnums.get(d.name) ?? null, tree: null, signatures: [] } : await survey(ctx, d, state.devnums.get(d.name) ?? null));
      }
      const { actions, refusals } = decideDisks(ctx.host, disks, surveys, state.pvs, state.vgs);
      // Every refusal is found before anything changes: a half-made volume group is worse than none.
      if (refusals.length) throw refusalError(ctx.host, refusals);

      for (const a of actions) {
        if (a.kind !== "erase") continue;
        ctx.note(`erasing ${dev(a.disk.name)} as the plan says (wipe: true); it held ${a.holds}`);
        await ctx.run(`wipefs -a ${devs(a.eraseOrder)}`, TIMEOUT);
      }
      const fresh = actions.filter((a) => a.kind === "empty" || a.kind === "erase").map((a) => a.disk.name);
      if (fresh.length) await ctx.run(`pvcreate ${devs(fresh)}`, TIMEOUT);
      for (const [vg, members] of groupsOf(disks)) {
        const add = members.filter((m) => actions.find((a) => a.disk === m)?.kind !== "member").map((m) => m.name);
        if (!add.length) continue;
        const exists = state.vgs.some((v) => v.vgName === vg) || state.pvs.some((p) => p.vgName === vg);
        await ctx.run(`${exists ? "vgextend" : "vgcreate"} ${shq(vg)} ${devs(add)}`, TIMEOUT);
      }
    },
    async verify(ctx) {
      const g = await gaps(ctx);
      if (g.length) {
        throw verifyFailed(ctx.host, STEP_ID, `each planned volume group must hold exactly its planned disks; ${g.join("; ")}`, "run `pvs` and `vgs` on the host: something else changed these disks (another tool, a person); fix that, then run the install again");
      }
    },
    describe: (ctx) => {
      const node = nodes.get(ctx.host);
      const lines: string[] = [];
      for (const [vg, members] of groupsOf(disksFor(ctx.host))) {
        lines.push(`volume group ${vg}: exactly ${members.map((m) => dev(m.name)).join(", ")} (vgcreate, or vgextend if it exists; disks already in it are left as they are)`);
        for (const m of members) {
          lines.push(
            m.wipe
              ? `  ${dev(m.name)}: WILL BE ERASED (plan says wipe: true): wipefs -a on its partitions and the disk, then pvcreate — unless it is already a PV of ${vg}`
              : `  ${dev(m.name)}: not erased: pvcreate only if it is empty (no partitions, no signatures, no other volume group); otherwise the step stops and changes nothing`,
          );
        }
      }
      const untouched = node?.disks.filter((d) => d.use === null).map((d) => d.name) ?? [];
      if (untouched.length) lines.push(`never touched (not in the plan's volume groups): ${untouched.map(dev).join(", ")}`);
      return lines;
    },
  };
}
