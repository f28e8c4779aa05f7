// bench:probe — omstack probe vs Ansible `setup` vs plain parallel OpenSSH running the same command set,
// on the same SSH test hosts, in the same run. Prints wall time, CPU and peak RSS of each, and the ratios.
// A benchmark that prints figures, not a timed test.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startTestHosts, defaultRunDir } from "../hosts/lab.js";
import type { TestLab } from "../hosts/types.js";
import { buildProbeScript, newNonce } from "../../installer/src/probe/script.js";
import { CAPTURES, DEFAULT_COMMAND_TIMEOUT_SEC } from "../../installer/src/probe/captures.js";

const repo = resolve(import.meta.dirname, "../..");
const sizes = (process.env.BENCH_SIZES ?? "10,25,50").split(",").map(Number);
const reps = Number(process.env.BENCH_REPS ?? 3);
const skipAnsible = process.env.BENCH_SKIP_ANSIBLE === "1";
const PAGE = 4096;

interface Measure {
  wallS: number;
  cpuS: number;
  peakRssMB: number;
  ok: boolean;
}

// Sum of RSS over a process tree, sampled: Ansible and parallel ssh are many processes, so one process's maxrss would lie.
async function treeRss(root: number): Promise<number> {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      rss.set(Number(d), Number(fields[21]) * PAGE);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* process ended while reading */
    }
  }
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

async function measure(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measure> {
  const timeFile = join(tmpdir(), `bench-time-${randomBytes(4).toString("hex")}`);
  const start = process.hrtime.bigint();
  const child = spawn("/usr/bin/time", ["-f", "%e %U %S", "-o", timeFile, ...argv], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  let peak = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await treeRss(child.pid!));
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const code: number = await new Promise((r) => child.on("close", (c) => r(c ?? 1)));
  running = false;
  await sampler;
  const wallS = Number(process.hrtime.bigint() - start) / 1e9;
  const [, u, s] = (await readFile(timeFile, "utf8")).trim().split(/\s+/).slice(-3).map(Number);
  await rm(timeFile, { force: true });
  if (code !== 0) process.stderr.write(`  (exit ${code}: ${argv[0]} … ${stderr.trim().split("\n").slice(-2).join(" | ")})\n`);
  return { wallS, cpuS: (u ?? 0) + (s ?? 0), peakRssMB: peak / 1024 / 1024, ok: code === 0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const maxN = Math.max(...sizes);
  const work = await mkdtemp(join(defaultRunDir(), "bench-probe-"));
  const profiles = ["h100-ib", "a100-roce", "a100-mig", "cpu-hdd"];
  process.stderr.write(`starting ${maxN} SSH test hosts…\n`);
  const t0 = Date.now();
  const lab: TestLab = await startTestHosts(
    Array.from({ length: maxN }, (_, i) => ({ name: `bench-${String(i + 1).padStart(2, "0")}`, profile: profiles[i % profiles.length]!, keepTools: ["ip", "lsblk", "ss"] })),
    { runDir: work },
  );
  process.stderr.write(`${maxN} hosts ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const rows: string[] = [];
  try {
    const script = join(work, "probe.sh");
    await writeFile(script, buildProbeScript(CAPTURES, newNonce(randomBytes), DEFAULT_COMMAND_TIMEOUT_SEC));
    for (const n of sizes) {
      const hosts = lab.hosts.slice(0, n);
      const inv = join(work, `inv-${n}.yaml`);
      await writeFile(inv, "hosts:\n" + hosts.map((h) => `  - {name: ${h.name}, address: ${h.address}, port: ${h.port}, user: root, identityFile: ${h.identityFile}}`).join("\n") + "\n");
      const ini = join(work, `inv-${n}.ini`);
      await writeFile(ini, "[all]\n" + hosts.map((h) => `${h.name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=root ansible_ssh_private_key_file=${h.identityFile} ansible_python_interpreter=/usr/bin/python3`).join("\n") + "\n");
      const sshOpts = ["-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${lab.knownHostsFile}`, "-o", "StrictHostKeyChecking=yes", "-o", "KexAlgorithms=curve25519-sha256", "-o", "HostKeyAlgorithms=ssh-ed25519", "-o", "ControlMaster=no", "-i", lab.identityFile];
      const sshLoop = hosts.map((h) => `ssh ${sshOpts.join(" ")} -p ${h.port} root@${h.address} sh -s < ${script} > /dev/null &`).join("\n") + "\nwait\n";
      const sshScript = join(work, `ssh-${n}.sh`);
      await writeFile(sshScript, sshLoop);
      const results: Record<string, Measure[]> = { omstack: [], openssh: [], ansible: [] };
      for (let r = 0; r < reps; r++) {
        results.omstack!.push(await measure([process.execPath, join(repo, "bin/omstack.js"), "probe", "-i", inv, "--known-hosts", lab.knownHostsFile, "--concurrency", String(n), "-o", "json"]));
        results.openssh!.push(await measure(["bash", sshScript]));
        if (!skipAnsible) {
          const cp = join(work, `cp-${n}-${r}`);
          results.ansible!.push(
            await measure(["ansible", "all", "-i", ini, "-m", "setup", "-f", String(n)], {
              ...process.env,
              ANSIBLE_SSH_ARGS: `-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${lab.knownHostsFile} -o StrictHostKeyChecking=yes`,
              ANSIBLE_SSH_CONTROL_PATH_DIR: cp,
              ANSIBLE_HOST_KEY_CHECKING: "True",
              ANSIBLE_LOCAL_TEMP: join(work, "ansible-tmp"),
              ANSIBLE_STDOUT_CALLBACK: "minimal",
              ANSIBLE_FORKS: String(n),
            }),
          );
          // Close Ansible's persistent SSH masters so they do not outlive the run.
          await new Promise((res) => spawn("pkill", ["-f", cp]).on("close", res));
        }
      }
      const m = (k: string) => ({ wall: median(results[k]!.map((x) => x.wallS)), cpu: median(results[k]!.map((x) => x.cpuS)), rss: Math.max(...results[k]!.map((x) => x.peakRssMB)), ok: results[k]!.every((x) => x.ok) });
      const o = m("omstack");
      const s = m("openssh");
      const a = skipAnsible ? null : m("ansible");
      const fmt = (name: string, x: { wall: number; cpu: number; rss: number; ok: boolean }) => `  ${name.padEnd(9)} wall ${x.wall.toFixed(2).padStart(6)} s   cpu ${x.cpu.toFixed(2).padStart(6)} s   peak RSS ${x.rss.toFixed(0).padStart(5)} MB${x.ok ? "" : "   (some runs failed)"}`;
      const lines = [`N = ${n} hosts (median of ${reps} runs; peak RSS = sum over the process tree, max of runs)`, fmt("omstack", o), fmt("openssh", s)];
      if (a) lines.push(fmt("ansible", a));
      lines.push(`  ratio omstack/openssh wall = ${(o.wall / s.wall).toFixed(2)}  (target <= 1.5)`);
      if (a) lines.push(`  ratio omstack/ansible wall = ${(o.wall / a.wall).toFixed(3)}  (ansible is ${(a.wall / o.wall).toFixed(1)}x slower; target >= 10x)`);
      lines.push(`  omstack peak RSS ${o.rss.toFixed(0)} MB (target <= 150 MB)`);
      process.stdout.write(lines.join("\n") + "\n");
      rows.push(...lines);
    }
  } finally {
    await lab.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench:probe failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
