// admin.service: the admin service as a systemd unit on the first control-plane node — its first admin user, the unit
// file, daemon-reload + enable + (re)start once per change of unit or release, then an HTTPS answer within a deadline.
import { createHash, randomBytes } from "node:crypto";
import { OmstackError } from "../../errors.js";
import type { Plan } from "../../plan/types.js";
import { shq } from "../shell.js";
import { SYSTEMD_RUNTIME_DIR, systemdRunning } from "../systemd.js";
import type { CheckResult, ReadCtx, Step, WriteCtx } from "../types.js";
import { verifyFailed } from "../verifyError.js";
import {
  ADMIN_STATE_DIR,
  ADMIN_UNIT,
  ADMIN_UNIT_FILE,
  APP_CURRENT,
  DEFAULT_ADMIN_LISTEN,
  INSTALL_CLI_LOG,
  NODE_IN_RELEASE,
  RELEASE_MARKER,
  cliCommand,
  firstControlPlane,
  listeningPorts,
  parseAdminListen,
  probeHost,
} from "./layout.js";

/** sha256 of unit text + live release the service was last (re)started with; written only after it answered. */
export const ADMIN_SERVICE_STAMP = "/var/lib/omstack/applied/admin-service.sha256";
/** In the admin state dir (so it goes when that state is wiped): the user this step created or found. */
export const ADMIN_USER_STAMP_FILE = "installed-admin-user";
/** The self-signed certificate the service generates on first start (admin/tls.ts). */
const TLS_CERT = "tls-admin.crt";

/** Settings of the unit. */
export interface AdminUnitOptions {
  listen?: string;
  stateDir?: string;
}

/** Checks the unit settings and fills in the defaults. */
export function validateAdminUnitOptions(o: AdminUnitOptions): Required<AdminUnitOptions> {
  const listen = o.listen ?? DEFAULT_ADMIN_LISTEN;
  parseAdminListen(listen);
  const stateDir = o.stateDir ?? ADMIN_STATE_DIR;
  if (!/^\/[A-Za-z0-9._/-]+$/.test(stateDir) || stateDir.split("/").includes("..") || stateDir === "/") {
    throw new OmstackError("E_STEP_CONFIG", `admin state directory must be an absolute path of letters, digits, '.', '_', '-' and '/'; got ${JSON.stringify(stateDir)}`, { remedy: `use the default ${ADMIN_STATE_DIR}` });
  }
  return { listen, stateDir: stateDir.replace(/\/+$/, "") };
}

/**
 * The unit file's exact text. Hardening is limited to options that leave upgrades (root, /etc, SSH) working and need
 * no device cgroup (ProtectClock/ProtectKernelLogs imply DeviceAllow=, which cgroup-v1 container nodes may not offer).
 */
export function renderAdminUnit(o: Required<AdminUnitOptions>): string {
  const stateDirectory = o.stateDir.startsWith("/var/lib/") ? o.stateDir.slice("/var/lib/".length) : null;
  return [
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
    `ExecStart=${cliCommand(["--log-file", "/var/log/omstack/omstack-admin.log", "admin", "serve", "--state-dir", o.stateDir, "--listen", o.listen])}`,
    "Restart=always",
    "RestartSec=2",
    "TimeoutStopSec=20",
    "UMask=0077",
    ...(stateDirectory ? [`StateDirectory=${stateDirectory}`, "StateDirectoryMode=0700"] : []),
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
  ].join("\n");
}

/** A node one-liner polling https://HOST:PORT/api/v1/health until it answers 200 or 401 (up, login required) or the deadline passes. */
export function healthProbeScript(host: string, port: number, deadlineMs: number): string {
  const js = [
    `const https=require("https");const end=Date.now()+${Math.round(deadlineMs)};let last="no attempt";`,
    `function again(why){last=why;if(Date.now()>end){console.error("no answer from https://${host}:${port}/api/v1/health: "+last);process.exit(1)}setTimeout(once,500)}`,
    `function once(){const r=https.get({host:${JSON.stringify(host)},port:${port},path:"/api/v1/health",rejectUnauthorized:false,timeout:3000},(res)=>{res.resume();if(res.statusCode===200||res.statusCode===401){console.log("HTTP "+res.statusCode+" from https://${host}:${port}/api/v1/health");process.exit(0)}again("HTTP "+res.statusCode)});r.on("timeout",()=>r.destroy(new Error("timed out")));r.on("error",(e)=>again(e.message))}`,
    "once();",
  ].join("");
  return `${APP_CURRENT}/${NODE_IN_RELEASE} -e ${shq(js)}`;
}

/** The stamp's value: the unit and the live release together decide whether a restart is owed. */
export function serviceStampSum(unitText: string, releaseMarker: string): string {
  return createHash("sha256").update(`${unitText}\0${releaseMarker}`).digest("hex");
}

/** Who the first admin is and where the password comes from; the password never reaches the journal, a log or a command line. */
export interface AdminUserSource {
  name: string;
  /** Called only when the user must be created (not on a re-run that finds it). */
  password(): string | Promise<string>;
  /** Told when the user was created in this run (e.g. to show a generated password once). */
  onCreated?(name: string): void;
}

async function listening(ctx: ReadCtx, port: number): Promise<boolean> {
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const t = await ctx.readText(f);
    if (t && listeningPorts(t).has(port)) return true;
  }
  return false;
}

/** Builds the step. */
export function adminService(opts: AdminUnitOptions & { user: AdminUserSource; startTimeoutMs?: number; hosts?: (plan: Plan) => string[] }): Step<Plan> {
  const id = "admin.service";
  const settings = validateAdminUnitOptions(opts);
  const unit = renderAdminUnit(settings);
  const addr = parseAdminListen(settings.listen);
  const probe = probeHost(addr.host);
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  const user = opts.user;
  if (!user || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(user.name ?? "")) {
    throw new OmstackError("E_STEP_CONFIG", `the first admin user needs a name of 1–64 letters, digits, '.', '_' or '-'; got ${JSON.stringify(user?.name)}`, { remedy: "use e.g. admin" });
  }
  const userStamp = `${settings.stateDir}/${ADMIN_USER_STAMP_FILE}`;
  const cli = (args: string[]) => cliCommand(["--log-file", INSTALL_CLI_LOG, ...args]);

  async function stampOk(ctx: ReadCtx): Promise<boolean> {
    const marker = await ctx.readText(`${APP_CURRENT}/${RELEASE_MARKER}`);
    return marker !== null && (await ctx.readText(ADMIN_SERVICE_STAMP))?.trim() === serviceStampSum(unit, marker);
  }

  async function requireSystemd(ctx: ReadCtx): Promise<void> {
    if (!(await systemdRunning(ctx))) {
      throw new OmstackError("E_ADMIN_SERVICE_NO_SYSTEMD", `${ctx.host}: the admin service is installed as a systemd unit, and systemd is not PID 1 on this node (${SYSTEMD_RUNTIME_DIR} is missing or systemctl is not installed)`, {
        host: ctx.host,
        remedy: "a cluster node must be booted with systemd (every supported distribution is); make this node such a host, or put a systemd host first among the control planes",
      });
    }
  }

  async function ensureUser(ctx: WriteCtx): Promise<void> {
    const listed = await ctx.run(cli(["-o", "json", "admin", "list-users", "--state-dir", settings.stateDir]));
    let users: { name: string }[];
    try {
      users = (JSON.parse(listed.stdout) as { users: { name: string }[] }).users;
    } catch {
      throw new OmstackError("E_ADMIN_SERVICE_START", `${ctx.host}: \`omstack admin list-users\` printed no JSON user list`, { host: ctx.host, remedy: `read ${INSTALL_CLI_LOG} on the node; the installed app may be damaged (run the install again)` });
    }
    if (!users.some((u) => u.name === user.name)) {
      const password = await user.password();
      // The password travels only inside the write's script (on the SSH channel's stdin) into a 0600 file on tmpfs,
      // which the command reads on its stdin and removes; no argv, log line or journal row holds it.
      const file = `/run/omstack-admin-password-${randomBytes(8).toString("hex")}`;
      try {
        await ctx.writeFile(file, `${password}\n`, { mode: 0o600 });
        await ctx.run(`${cli(["admin", "create-user", "--state-dir", settings.stateDir, "--name", user.name, "--role", "admin", "--password-stdin"])} < ${shq(file)}`);
      } finally {
        await ctx.remove(file);
      }
      user.onCreated?.(user.name);
    }
    await ctx.writeFile(userStamp, `${user.name}\n`, { mode: 0o600 });
  }

  async function waitForAnswer(ctx: WriteCtx): Promise<void> {
    const r = await ctx.run(healthProbeScript(probe, addr.port, startTimeoutMs), { timeoutMs: startTimeoutMs + 30_000, okExitCodes: [0, 1] });
    if (r.exitCode === 0) return;
    const diag = await ctx.run(`systemctl status --no-pager --lines=0 ${ADMIN_UNIT} 2>&1 | head -n 12; journalctl -u ${ADMIN_UNIT} -n 25 --no-pager 2>&1`, { okExitCodes: [0, 1, 3] });
    throw new OmstackError("E_ADMIN_SERVICE_START", `${ctx.host}: ${ADMIN_UNIT} was started but did not answer on https://${probe}:${addr.port} within ${Math.round(startTimeoutMs / 1000)} s (${r.stderr.trim() || r.stdout.trim()})\n${diag.stdout.trim()}`, {
      host: ctx.host,
      remedy: `read \`journalctl -u ${ADMIN_UNIT}\` and /var/log/omstack/omstack-admin.log on the node; a port in use (ss -ltnp) or a broken state directory (${settings.stateDir}) are the usual causes`,
    });
  }

  return {
    id,
    title: "Run the admin service (systemd unit, first admin user, HTTPS on the node)",
    targets: opts.hosts ?? firstControlPlane,
    inputs: () => ({ unit, user: user.name, stateDir: settings.stateDir, listen: settings.listen }),
    async check(ctx): Promise<CheckResult> {
      if (!(await systemdRunning(ctx))) return { pending: `systemd is not PID 1 on this node (${SYSTEMD_RUNTIME_DIR} missing); the unit cannot be installed` };
      if ((await ctx.readText(ADMIN_UNIT_FILE)) !== unit) return { pending: `${ADMIN_UNIT_FILE} is missing or differs` };
      if ((await ctx.readText(userStamp))?.trim() !== user.name) return { pending: `the admin user ${user.name} has not been set up` };
      if (!(await stampOk(ctx))) return { pending: `${ADMIN_UNIT} has not been restarted since its unit or the app changed` };
      if (!(await listening(ctx, addr.port))) return { pending: `nothing listens on port ${addr.port}` };
      return "done";
    },
    async apply(ctx) {
      await requireSystemd(ctx);
      const marker = await ctx.readText(`${APP_CURRENT}/${RELEASE_MARKER}`);
      if (marker === null) {
        throw new OmstackError("E_ADMIN_SERVICE_PREREQ", `${ctx.host}: the omstack app is required at ${APP_CURRENT}; it is not installed`, { host: ctx.host, remedy: "the step admin.app installs it and must run first; run the install again (it resumes at admin.app)" });
      }
      if (!(await ctx.exists(`${settings.stateDir}/${TLS_CERT}`)) && !(await ctx.commandExists("openssl"))) {
        throw new OmstackError("E_ADMIN_SERVICE_PREREQ", `${ctx.host}: openssl is required to create the admin service's first certificate; it is not installed`, { host: ctx.host, remedy: "install openssl on the node (apt-get install openssl), then run the install again" });
      }
      await ensureUser(ctx);
      if ((await ctx.readText(ADMIN_UNIT_FILE)) !== unit || (await ctx.stat(ADMIN_UNIT_FILE))?.mode !== 0o644) await ctx.writeFile(ADMIN_UNIT_FILE, unit, { mode: 0o644 });
      const sum = serviceStampSum(unit, marker);
      if (!(await stampOk(ctx)) || !(await listening(ctx, addr.port))) {
        await ctx.run(`systemctl daemon-reload && systemctl enable ${ADMIN_UNIT} && systemctl restart ${ADMIN_UNIT}`, { timeoutMs: 120_000 });
      }
      await waitForAnswer(ctx);
      await ctx.writeFile(ADMIN_SERVICE_STAMP, `${sum}\n`, { mode: 0o600 });
    },
    async verify(ctx) {
      await requireSystemd(ctx);
      if ((await ctx.readText(ADMIN_UNIT_FILE)) !== unit) throw verifyFailed(ctx.host, id, `${ADMIN_UNIT_FILE} must hold omstack's unit; it is missing or different`, "something else manages this file; remove it from there, then run the install again");
      if (!(await stampOk(ctx))) throw verifyFailed(ctx.host, id, `${ADMIN_UNIT} must have been restarted with this unit and release; ${ADMIN_SERVICE_STAMP} does not record it`, "run the install again");
      if ((await ctx.readText(userStamp))?.trim() !== user.name) throw verifyFailed(ctx.host, id, `the admin user ${user.name} must exist; ${userStamp} does not record it`, "run the install again");
      if (!(await listening(ctx, addr.port))) throw verifyFailed(ctx.host, id, `${ADMIN_UNIT} must listen on port ${addr.port}; nothing does`, `read \`journalctl -u ${ADMIN_UNIT}\` on the node`);
    },
    describe: () => [
      `require systemd as PID 1 (${SYSTEMD_RUNTIME_DIR}); require openssl unless ${settings.stateDir}/${TLS_CERT} exists`,
      `create the admin user ${user.name} (role admin, password on stdin from a 0600 file on /run) unless it exists`,
      `write ${ADMIN_UNIT_FILE} (mode 644):`,
      ...unit.trimEnd().split("\n").map((l) => `  ${l}`),
      `systemctl daemon-reload, enable and restart ${ADMIN_UNIT} when the unit or the app changed (or it is not listening)`,
      `wait up to ${Math.round(startTimeoutMs / 1000)} s for https://${probe}:${addr.port}/api/v1/health to answer`,
    ],
  };
}
