// admin.app, admin.service and admin.journal-handoff on in-memory hosts: exact unit text, settings refused, the
// systemd branches the SSH test hosts cannot show (restart once per change, probe failure), and the password's path.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryHosts } from "../../executor/testing/memoryHosts.js";
import { soloReader, soloWriter } from "../../executor/testing/solo.js";
import type { StepIo } from "../../executor/ports.js";
import type { Plan, PlanNode } from "../../plan/types.js";
import { Journal } from "../../state/journal.js";
import { importJournalFile } from "../../admin/cli.js";
import { localJournalSource } from "../../admin/journal/handoff-source.js";
import { adminApp, activateScript, OMSTACK_WRAPPER, unpackScript, wrapperText } from "./app.js";
import { ADMIN_SERVICE_STAMP, adminService, healthProbeScript, renderAdminUnit, validateAdminUnitOptions } from "./service.js";
import { adminJournalHandoff, IMPORT_RECEIPT } from "./journal-handoff.js";
import { ADMIN_STATE_DIR, ADMIN_UNIT_FILE, APP_CURRENT, RELEASE_MARKER, firstControlPlane, listeningPorts, parseAdminListen, releaseDir, releaseId, releaseMarker } from "./layout.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "omstack-admin-steps-"));
  dirs.push(d);
  return d;
};

function logIo(lines: string[] = [], notes: string[] = []): StepIo {
  return { log: (l) => lines.push(l), note: (m) => notes.push(m) };
}

function node(host: string, roles: string[]): PlanNode {
  return { host, roles, labels: {}, taints: [], disks: [], rdmaInterface: null, address: null, restrictOomScoreAdj: false, reasons: [] };
}

function plan(nodes: PlanNode[]): Plan {
  return {
    formatVersion: 1,
    bundle: { version: null, cudaVersion: null, kubernetesVersion: null, containerdVersion: null },
    cluster: { name: "omstack", kubernetesVersion: null, controlPlaneEndpoint: null, podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12", nodeCidrMaskSize: 24, allowCgroupV1: false, kubeProxyMode: "iptables", dnsDomain: "cluster.local" },
    nodes,
    services: [],
    bypassedChecks: [],
    excluded: [],
    decisions: [],
  };
}

/** /proc/net/tcp as the kernel prints it (header + one LISTEN row on `port`, one ESTABLISHED row). */
function procNetTcp(port: number | null): string {
  const head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
  const established = "   1: 0100007F:A329 0100007F:9280 06 00000000:00000000 03:00000871 00000000     0        0 0 3 00000000593d5413\n";
  if (port === null) return head + established;
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return head + `   0: 00000000:${hex} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1153 1 00000000daf00c2f 100 0 0 10 0\n` + established;
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("layout helpers", () => {
  it("targets the first control-plane node only", () => {
    expect(firstControlPlane(plan([node("w1", ["worker"]), node("cp-b", ["control-plane", "worker"]), node("cp-c", ["control-plane"])]))).toEqual(["cp-b"]);
    expect(firstControlPlane(plan([node("w1", ["worker"])]))).toEqual([]);
  });

  it("names a release after both digests", () => {
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    expect(releaseId(a, b)).toMatch(/^[0-9a-f]{16}$/);
    expect(releaseId(a, b)).not.toBe(releaseId(a, "c".repeat(64)));
    expect(releaseDir(a, b)).toBe(`/opt/omstack/app-${releaseId(a, b)}`);
    expect(releaseMarker(a, b)).toBe(`omstack app release ${releaseId(a, b)}\napp ${a}\nnode ${b}\n`);
  });

  it("reads LISTEN ports from /proc/net/tcp and tcp6 text", () => {
    expect([...listeningPorts(procNetTcp(9443))]).toEqual([9443]);
    expect(listeningPorts(procNetTcp(null)).size).toBe(0);
    const v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue\n   0: 00000000000000000000000000000000:24E3 00000000000000000000000000000000:0000 0A 00000000:00000000\n";
    expect(listeningPorts(v6).has(9443)).toBe(true);
  });

  it.each(["9443", "0.0.0.0:99999", "0.0.0.0:0", "host name:9443", "0.0.0.0:9443; rm -rf /"])("refuses the listen address %j", (listen) => {
    expect(() => parseAdminListen(listen)).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
  });
});

describe("admin.app", () => {
  const app = { path: "/nonexistent/omstack-app.tar", sha256: "1".repeat(64) };
  const nodeBin = { path: "/nonexistent/node", sha256: "2".repeat(64) };

  it("refuses a sha256 that is not one", () => {
    expect(() => adminApp({ app: { ...app, sha256: "XYZ" }, node: nodeBin })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", message: expect.stringMatching(/app\/omstack-app.tar: sha256 must be 64/) }));
    expect(() => adminApp({ app, node: { ...nodeBin, path: "" } })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", message: expect.stringMatching(/bin\/node: a local path is required/) }));
  });

  it("builds its scripts from fixed paths: unpack into the partial folder, swap through a rename, keep the previous release", () => {
    expect(unpackScript("/opt/omstack/app-x.partial", "/opt/omstack/.omstack-app-x.tar")).toBe(
      "set -eu\ntar -xf '/opt/omstack/.omstack-app-x.tar' -C '/opt/omstack/app-x.partial' --no-same-owner\n'/opt/omstack/app-x.partial/node' '/opt/omstack/app-x.partial/omstack/bin/omstack.js' --version\n" +
        `'/opt/omstack/app-x.partial/node' -e 'new (require(process.argv[1]))(":memory:").close()' '/opt/omstack/app-x.partial/omstack/node_modules/better-sqlite3'`,
    );
    const act = activateScript("/opt/omstack/app-abc");
    expect(act).toContain("ln -sfn 'app-abc' .current.tmp\nmv -T .current.tmp current");
    expect(act).toContain(`[ "$d" = "$prev" ] && continue`);
    expect(wrapperText()).toBe(`#!/bin/sh\n# Managed by omstack (admin.app): runs the installed omstack through /opt/omstack/current.\nexec /opt/omstack/current/node /opt/omstack/current/omstack/bin/omstack.js "$@"\n`);
  });

  it("is done when current names this release and the node binary matches; leaves another omstack on PATH alone", async () => {
    const step = adminApp({ app, node: nodeBin });
    const hosts = new MemoryHosts(["cp"]);
    const h = await hosts.open("cp");
    expect(await step.check(soloReader(h.reader(logIo())))).toEqual({ pending: expect.stringMatching(/does not point at release/) });
    hosts.put("cp", `${APP_CURRENT}/${RELEASE_MARKER}`, releaseMarker(app.sha256, nodeBin.sha256));
    hosts.put("cp", `${APP_CURRENT}/node`, "not the bundle's node");
    expect(await step.check(soloReader(h.reader(logIo())))).toEqual({ pending: expect.stringMatching(/node is missing or differs/) });
    hosts.put("cp", `${APP_CURRENT}/node`, "x");
    const sumStep = adminApp({ app, node: { ...nodeBin, sha256: sha("x") } });
    hosts.put("cp", `${APP_CURRENT}/${RELEASE_MARKER}`, releaseMarker(app.sha256, sha("x")));
    expect(await sumStep.check(soloReader(h.reader(logIo())))).toEqual({ pending: `${OMSTACK_WRAPPER} is missing` });
    hosts.put("cp", OMSTACK_WRAPPER, "#!/bin/sh\nexec /home/ops/omstack \"$@\"\n");
    expect(await sumStep.check(soloReader(h.reader(logIo())))).toBe("done");
    const notes: string[] = [];
    await sumStep.apply(soloWriter(h.writer(logIo([], notes))));
    expect(hosts.writes).toEqual([]);
    expect(notes).toEqual([expect.stringMatching(/exists and is not omstack's; left alone/)]);
  });

  it("fails clearly without tar on the node", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "node"), "n");
    writeFileSync(join(dir, "app.tar"), "a");
    const step = adminApp({ app: { path: join(dir, "app.tar"), sha256: sha("a") }, node: { path: join(dir, "node"), sha256: sha("n") } });
    const hosts = new MemoryHosts(["cp"]);
    await expect(step.apply(soloWriter((await hosts.open("cp")).writer(logIo())))).rejects.toMatchObject({ code: "E_ADMIN_SERVICE_PREREQ", message: expect.stringMatching(/tar is required/) });
    expect(hosts.writes).toEqual([]);
  });
});

describe("admin.service", () => {
  const user = (password = "correct horse battery staple", created: string[] = []) => ({ name: "admin", password: () => password, onCreated: (n: string) => created.push(n) });

  it("renders the unit exactly", () => {
    expect(renderAdminUnit(validateAdminUnitOptions({}))).toBe(
      [
        "# Managed by omstack (admin.service); edits here are overwritten on the next install.",
        "[Unit]",
        "Description=OMStack admin service and web console",
        "Wants=network-online.target",
        "After=network-online.target",
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=simple",
        "User=root",
        "Environment=NODE_ENV=production",
        "ExecStart=/opt/omstack/current/node /opt/omstack/current/omstack/bin/omstack.js --log-file /var/log/omstack/omstack-admin.log admin serve --state-dir /var/lib/omstack-admin --listen 0.0.0.0:9443",
        "Restart=always",
        "RestartSec=2",
        "TimeoutStopSec=20",
        "UMask=0077",
        "StateDirectory=omstack-admin",
        "StateDirectoryMode=0700",
        "LogsDirectory=omstack",
        "LogsDirectoryMode=0700",
        "LimitNOFILE=65536",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectKernelModules=yes",
        "ProtectHostname=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "SystemCallArchitectures=native",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      ].join("\n"),
    );
    const custom = renderAdminUnit(validateAdminUnitOptions({ listen: "[::]:8443", stateDir: "/srv/omstack/admin/" }));
    expect(custom).toContain("--state-dir /srv/omstack/admin --listen '[::]:8443'");
    expect(custom).not.toContain("StateDirectory=");
  });

  it.each([
    [{ stateDir: "relative/dir" }, /absolute path/],
    [{ stateDir: "/var/lib/a b" }, /absolute path/],
    [{ stateDir: "/var/lib/../etc" }, /absolute path/],
    [{ listen: "localhost" }, /HOST:PORT/],
  ])("refuses the setting %j", (o, msg) => {
    expect(() => adminService({ ...o, user: user() })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG", message: expect.stringMatching(msg) }));
  });

  it("refuses a user name the admin service would refuse", () => {
    expect(() => adminService({ user: { name: "bad name", password: () => "x" } })).toThrow(expect.objectContaining({ code: "E_STEP_CONFIG" }));
  });

  it("probes the health endpoint with the bundled node, accepting 200 or 401 until a deadline", () => {
    const s = healthProbeScript("127.0.0.1", 9443, 60_000);
    expect(s.startsWith("/opt/omstack/current/node -e '")).toBe(true);
    expect(s).toContain('path:"/api/v1/health",rejectUnauthorized:false');
    expect(s).toContain("res.statusCode===200||res.statusCode===401");
    expect(s).toContain("Date.now()+60000");
  });

  /** A node with systemd, the app installed, and a service that listens once (re)started. */
  function systemdNode(opts: { answers?: boolean; openssl?: boolean } = {}) {
    const hosts = new MemoryHosts(["cp"]);
    hosts.put("cp", "/run/systemd/system/.present", "");
    hosts.commands.add("systemctl");
    if (opts.openssl !== false) hosts.commands.add("openssl");
    hosts.put("cp", `${APP_CURRENT}/${RELEASE_MARKER}`, releaseMarker("1".repeat(64), "2".repeat(64)));
    hosts.put("cp", "/proc/net/tcp", procNetTcp(null));
    const users: string[] = [];
    const passwords: string[] = [];
    hosts.commandHandler = (_h, cmd, fs) => {
      if (cmd.includes(" admin list-users ")) return { stdout: JSON.stringify({ users: users.map((name) => ({ name, role: "admin", locked: false })) }) };
      const create = /admin create-user .* < '([^']+)'$/.exec(cmd);
      if (create) {
        passwords.push(fs.get(create[1]!)!.content.toString("utf8"));
        users.push("admin");
        return undefined;
      }
      if (cmd.startsWith("systemctl daemon-reload")) {
        fs.set("/proc/net/tcp", { content: Buffer.from(procNetTcp(9443)), mode: 0o444 });
        return undefined;
      }
      if (cmd.includes(" -e ")) return opts.answers === false ? { exitCode: 1, stderr: "no answer from https://127.0.0.1:9443/api/v1/health: connect ECONNREFUSED" } : { stdout: "HTTP 401" };
      if (cmd.startsWith("systemctl status")) return { exitCode: 3, stdout: "× omstack-admin.service - OMStack admin service\n   Active: failed (Result: exit-code)" };
      return undefined;
    };
    return { hosts, users, passwords };
  }

  it("creates the user with the password only on stdin, writes the unit, restarts once, and a re-run changes nothing", async () => {
    const { hosts, passwords } = systemdNode();
    const pw = "correct horse battery staple";
    const created: string[] = [];
    const step = adminService({ user: user(pw, created) });
    const h = await hosts.open("cp");
    expect(await step.check(soloReader(h.reader(logIo())))).toEqual({ pending: `${ADMIN_UNIT_FILE} is missing or differs` });
    const lines: string[] = [];
    await step.apply(soloWriter(h.writer(logIo(lines))));
    await step.verify(soloReader(h.reader(logIo())));
    expect(await step.check(soloReader(h.reader(logIo())))).toBe("done");
    expect(passwords).toEqual([`${pw}\n`]);
    expect(created).toEqual(["admin"]);
    const runs = hosts.writes.filter((w) => w.op === "run").map((w) => w.target);
    expect(runs.filter((c) => c.startsWith("systemctl daemon-reload"))).toEqual(["systemctl daemon-reload && systemctl enable omstack-admin.service && systemctl restart omstack-admin.service"]);
    // nothing but the tmpfs file's own write ever carried it; the file is gone
    for (const w of hosts.writes) expect(w.target).not.toContain(pw);
    for (const l of lines) expect(l).not.toContain(pw);
    const pwFile = hosts.writes.find((w) => w.op === "writeFile" && w.target.startsWith("/run/omstack-admin-password-"))!.target;
    expect(hosts.writes.some((w) => w.op === "remove" && w.target === pwFile)).toBe(true);
    for (const [path, f] of hosts.fs("cp")) expect(f.content.toString("utf8"), path).not.toContain(pw);
    expect(hosts.fs("cp").get(ADMIN_UNIT_FILE)!.mode).toBe(0o644);
    expect(hosts.fs("cp").get(ADMIN_SERVICE_STAMP)!.mode).toBe(0o600);

    const before = hosts.writes.length;
    await step.apply(soloWriter(h.writer(logIo())));
    const again = hosts.writes.slice(before);
    expect(again.filter((w) => w.op === "run" && w.target.startsWith("systemctl"))).toEqual([]);
    expect(again.filter((w) => w.op === "run" && w.target.includes("create-user"))).toEqual([]);
    expect(created).toEqual(["admin"]);
  });

  it("restarts again when the live release changes, and starts a stopped service", async () => {
    const { hosts } = systemdNode();
    const step = adminService({ user: user() });
    const h = await hosts.open("cp");
    await step.apply(soloWriter(h.writer(logIo())));
    hosts.put("cp", `${APP_CURRENT}/${RELEASE_MARKER}`, releaseMarker("3".repeat(64), "2".repeat(64)));
    expect(await step.check(soloReader(h.reader(logIo())))).toEqual({ pending: "omstack-admin.service has not been restarted since its unit or the app changed" });
    const n = hosts.writes.length;
    await step.apply(soloWriter(h.writer(logIo())));
    expect(hosts.writes.slice(n).filter((w) => w.target.startsWith("systemctl daemon-reload"))).toHaveLength(1);
    hosts.put("cp", "/proc/net/tcp", procNetTcp(null));
    expect(await step.check(soloReader(h.reader(logIo())))).toEqual({ pending: "nothing listens on port 9443" });
    await expect(step.verify(soloReader(h.reader(logIo())))).rejects.toMatchObject({ code: "E_STEP_VERIFY" });
    await step.apply(soloWriter(h.writer(logIo())));
    expect(await step.check(soloReader(h.reader(logIo())))).toBe("done");
  });

  it("without systemd as PID 1: check says why, apply fails with E_ADMIN_SERVICE_NO_SYSTEMD and writes nothing", async () => {
    const hosts = new MemoryHosts(["cp"]);
    hosts.commands.add("systemctl");
    const step = adminService({ user: user() });
    const h = await hosts.open("cp");
    expect(await step.check(soloReader(h.reader(logIo())))).toEqual({ pending: expect.stringMatching(/systemd is not PID 1/) });
    await expect(step.apply(soloWriter(h.writer(logIo())))).rejects.toMatchObject({ code: "E_ADMIN_SERVICE_NO_SYSTEMD", remedy: expect.stringMatching(/booted with systemd/) });
    expect(hosts.writes).toEqual([]);
  });

  it("fails clearly when the app is missing, when openssl is missing for the first certificate, and when the service does not answer", async () => {
    const noApp = systemdNode();
    noApp.hosts.fs("cp").delete(`${APP_CURRENT}/${RELEASE_MARKER}`);
    await expect(adminService({ user: user() }).apply(soloWriter((await noApp.hosts.open("cp")).writer(logIo())))).rejects.toMatchObject({ code: "E_ADMIN_SERVICE_PREREQ", message: expect.stringMatching(/omstack app is required/) });

    const noSsl = systemdNode({ openssl: false });
    await expect(adminService({ user: user() }).apply(soloWriter((await noSsl.hosts.open("cp")).writer(logIo())))).rejects.toMatchObject({ code: "E_ADMIN_SERVICE_PREREQ", message: expect.stringMatching(/openssl is required/) });
    noSsl.hosts.put("cp", `${ADMIN_STATE_DIR}/tls-admin.crt`, "PEM");
    await adminService({ user: user() }).apply(soloWriter((await noSsl.hosts.open("cp")).writer(logIo())));

    const mute = systemdNode({ answers: false });
    const step = adminService({ user: user(), startTimeoutMs: 1000 });
    const h = await mute.hosts.open("cp");
    await expect(step.apply(soloWriter(h.writer(logIo())))).rejects.toMatchObject({ code: "E_ADMIN_SERVICE_START", message: expect.stringMatching(/did not answer on https:\/\/127.0.0.1:9443 within 1 s \(no answer from .*ECONNREFUSED\)\n× omstack-admin.service/) });
    expect(mute.hosts.fs("cp").has(ADMIN_SERVICE_STAMP)).toBe(false);
  });
});

describe("admin.journal-handoff", () => {
  it("pushes the export, imports it with the real import code, and a second hand-over with no new run is done", async () => {
    const state = tmp();
    const j = Journal.open(state);
    j.acquireLock("install");
    const run = j.startRun({ mode: "apply", options: {}, planHash: null });
    j.stepOutcome(run, { stepId: "admin.app", host: "cp", seq: 0 }, "verified", { inputsHash: "x", durationMs: 1 });
    j.finishRun(run, "succeeded", 5);
    const adminState = tmp();
    const hosts = new MemoryHosts(["cp"]);
    hosts.put("cp", `${APP_CURRENT}/${RELEASE_MARKER}`, "release");
    const imports: string[] = [];
    hosts.commandHandler = (_h, cmd, fs) => {
      const m = /--from (\S+)$/.exec(cmd);
      if (!m) return undefined;
      const local = join(tmp(), "import.json");
      writeFileSync(local, fs.get(m[1]!)!.content);
      const r = importJournalFile(adminState, local);
      imports.push(`${r.added}/${r.updated}/${r.unchanged}`);
      fs.set(`${ADMIN_STATE_DIR}/${IMPORT_RECEIPT}`, { content: readFileSync(join(adminState, "journal-imports.json")), mode: 0o600 });
      fs.delete(m[1]!);
      return undefined;
    };
    const step = adminJournalHandoff({ source: localJournalSource(state) });
    const h = await hosts.open("cp");
    expect(await step.check(soloReader(h.reader(logIo())))).toEqual({ pending: expect.stringMatching(/^1 install run\(s\) not yet in the admin database/) });
    await step.apply(soloWriter(h.writer(logIo())));
    await step.verify(soloReader(h.reader(logIo())));
    expect(await step.check(soloReader(h.reader(logIo())))).toBe("done");
    expect(imports).toEqual(["1/0/0"]);
    expect(hosts.writes.find((w) => w.op === "pushFile")!.target).toMatch(/^\/var\/lib\/omstack\/handoff\/install-journal-[0-9a-f]{16}\.json$/);
    expect(hosts.writes.find((w) => w.op === "run")!.target).toMatch(/^trap 'rm -f '\\''\/var\/lib\/omstack\/handoff\/.*'\\''' EXIT\n\/opt\/omstack\/current\/node \/opt\/omstack\/current\/omstack\/bin\/omstack.js --log-file \/var\/log\/omstack\/omstack-admin-install.log admin import-journal --state-dir \/var\/lib\/omstack-admin --from /);
    await step.apply(soloWriter(h.writer(logIo())));
    expect(imports).toEqual(["1/0/0", "0/0/1"]);
    j.close();
  });

  it("refuses to run before the app is installed", async () => {
    const hosts = new MemoryHosts(["cp"]);
    const step = adminJournalHandoff({ source: localJournalSource(tmp()) });
    await expect(step.apply(soloWriter((await hosts.open("cp")).writer(logIo())))).rejects.toMatchObject({ code: "E_ADMIN_SERVICE_PREREQ", message: expect.stringMatching(/omstack app must be installed/) });
  });
});
