// Loads omstack.yaml into an Inventory, collecting every mistake with its file:line:column.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, resolve, dirname } from "node:path";
import type { Node } from "yaml";
import { AggregateOmstackError, OmstackError } from "../errors.js";
import {
  describeNode,
  parseYamlWithPositions,
  readBool,
  readInt,
  readMap,
  readSeq,
  readString,
  readStringList,
  readStringMap,
  scalarValue,
  type SchemaContext,
} from "../config/yamlSchema.js";
import { KNOWN_ROLES, type AuthMethod, type BastionSpec, type HostSpec, type Inventory, type SudoSetting } from "./types.js";

const HOST_KEYS = ["name", "address", "port", "user", "identityFile", "agent", "password", "sudo", "bastion", "roles", "labels", "wipe"] as const;
const DEFAULT_KEYS = ["port", "user", "identityFile", "agent", "password", "sudo", "bastion"] as const;
const BASTION_KEYS = ["address", "port", "user", "identityFile", "agent", "password"] as const;
const SUDO_KEYS = ["password"] as const;

/** Adapter seam: how key files are checked, so unit tests need no real files. */
export interface KeyFileChecker {
  (path: string): Promise<string | null>; // null = usable, otherwise the reason it is not
}

/** Loads and validates an inventory file; throws one error listing every problem. */
export async function loadInventoryFile(path: string, checkKey: KeyFileChecker): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new OmstackError("E_CONFIG_READ", `cannot read the inventory ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`, {
      remedy: code === "ENOENT" ? "create it (see docs/inventory.md) or pass another file with -i FILE" : "check the file's permissions",
    });
  }
  return parseInventory(text, path, checkKey);
}

/** Validates inventory text; `file` is used for positions and to resolve relative key paths. */
export async function parseInventory(text: string, file: string, checkKey: KeyFileChecker): Promise<Inventory> {
  if (text.length > 8 * 1024 * 1024) {
    throw new OmstackError("E_CONFIG_READ", `${file} is ${text.length} bytes; an inventory is at most 8 MiB`, { remedy: "check that the right file was passed with -i" });
  }
  const { doc, ctx } = parseYamlWithPositions(text, file);
  const baseDir = dirname(resolve(file));
  const root = readMap(ctx, doc.contents, "inventory", ["hosts", "defaults", "apiVersion", "kind", "cluster"]);
  const hosts: HostSpec[] = [];
  const keyChecks: { path: string; node: Node; where: string }[] = [];
  if (root) {
    const defaultsEntry = root.get("defaults");
    const defaults = defaultsEntry ? readMap(ctx, defaultsEntry.value, "defaults", DEFAULT_KEYS) : new Map();
    const hostsEntry = root.get("hosts");
    if (!hostsEntry) {
      ctx.report(doc.contents as Node, "hosts", "the inventory has no `hosts:` list", "add a `hosts:` list with at least one host (see docs/inventory.md)");
    } else {
      const items = readSeq(ctx, hostsEntry.value, "hosts");
      if (items && items.length === 0) ctx.report(hostsEntry.value, "hosts", "`hosts:` is empty", "add at least one host");
      items?.forEach((item, i) => {
        const h = readHost(ctx, item, i, defaults ?? new Map(), baseDir, keyChecks);
        if (h) hosts.push(h);
      });
    }
  }
  findDuplicates(ctx, hosts, doc.contents as Node, text);
  await Promise.all(
    keyChecks.map(async (k) => {
      const reason = await checkKey(k.path);
      if (reason) ctx.issues.push({ path: k.where, message: `SSH key ${k.path} cannot be used: ${reason}`, remedy: "point identityFile at a readable private key (chmod 600), or use `agent: true`", location: ctx.locate(k.node) });
    }),
  );
  if (ctx.issues.length > 0) {
    ctx.issues.sort((a, b) => a.location.line - b.location.line || a.location.column - b.location.column);
    const errors = ctx.issues.map((issue) => {
      const code = issue.message.startsWith("SSH key") ? "E_KEY_UNREADABLE" : issue.message.startsWith("duplicate") ? "E_CONFIG_DUPLICATE" : "E_CONFIG_SCHEMA";
      return new OmstackError(code, issue.message, { location: issue.location, remedy: issue.remedy });
    });
    if (errors.length === 1) throw errors[0]!;
    throw new AggregateOmstackError(errors[0]!.code, `${file}: ${errors.length} problems in the inventory`, errors);
  }
  return { file, hosts };
}

type Entries = Map<string, { key: Node; value: Node | null }>;

function readHost(ctx: SchemaContext, node: Node, i: number, defaults: Entries, baseDir: string, keyChecks: { path: string; node: Node; where: string }[]): HostSpec | null {
  const path = `hosts[${i}]`;
  const m = readMap(ctx, node, path, HOST_KEYS);
  if (!m) return null;
  const get = (k: string) => m.get(k) ?? defaults.get(k);
  const name = m.get("name") ? readString(ctx, m.get("name")!.value, `${path}.name`) : (ctx.report(node, `${path}.name`, `${path} has no name`, "add `name: <hostname>` (letters, digits, '-' and '.')"), null);
  if (name !== null && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$/.test(name)) {
    ctx.report(m.get("name")!.value, `${path}.name`, `host name "${name}" is not a valid node name`, "use 1-64 letters, digits, '-' or '.', starting and ending with a letter or digit (it becomes the Kubernetes node name)");
  }
  const address = m.get("address") ? readAddress(ctx, m.get("address")!.value, `${path}.address`) : (ctx.report(node, `${path}.address`, `${path} (${name ?? "?"}) has no address`, "add `address: <IP or DNS name>`"), null);
  const portEntry = get("port");
  const port = portEntry ? readInt(ctx, portEntry.value, `${path}.port`, 1, 65535) : 22;
  const userEntry = get("user");
  const user = userEntry ? readString(ctx, userEntry.value, `${path}.user`) : "root";
  const auth = readAuth(ctx, m, defaults, path, baseDir, keyChecks);
  const sudoEntry = get("sudo");
  const sudo = sudoEntry ? readSudo(ctx, sudoEntry.value, `${path}.sudo`) : ({ enabled: false } as SudoSetting);
  const bastionEntry = get("bastion");
  const bastion = bastionEntry ? readBastion(ctx, bastionEntry.value, `${path}.bastion`, baseDir, keyChecks) : null;
  const roles = m.get("roles") ? readStringList(ctx, m.get("roles")!.value, `${path}.roles`) : [];
  roles?.forEach((r, j) => {
    if (!(KNOWN_ROLES as readonly string[]).includes(r)) {
      const seq = m.get("roles")!.value as unknown as { items: Node[] };
      ctx.report(seq.items[j] ?? null, `${path}.roles[${j}]`, `unknown role "${r}"`, `roles are: ${KNOWN_ROLES.join(", ")}`);
    }
  });
  const labels = m.get("labels") ? readStringMap(ctx, m.get("labels")!.value, `${path}.labels`) : {};
  const wipe = m.get("wipe") ? readStringList(ctx, m.get("wipe")!.value, `${path}.wipe`) : [];
  if (name === null || address === null || port === null || user === null || auth === null || sudo === null || roles === null || labels === null || wipe === null) return null;
  return { name, address, port, user, auth, sudo, bastion, roles, labels, wipe };
}

function readAddress(ctx: SchemaContext, node: Node | null, path: string): string | null {
  const s = readString(ctx, node, path);
  if (s === null) return null;
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (ipv4) {
    if (ipv4.slice(1).every((o) => Number(o) <= 255)) return s;
    ctx.report(node, path, `"${s}" is not a valid IPv4 address`, "each of the four numbers must be 0-255");
    return null;
  }
  if (s.includes(":")) {
    if (/^[0-9a-fA-F:]+(%[\w.-]+)?$/.test(s) && s.split(":").length <= 8) return s;
    ctx.report(node, path, `"${s}" is not a valid IPv6 address`, "write the address without brackets or port, e.g. fd00::11");
    return null;
  }
  if (/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(s)) return s;
  ctx.report(node, path, `"${s}" is neither an IP address nor a DNS name`, "use an IPv4/IPv6 address or a resolvable host name, without user@ or :port");
  return null;
}

function expandPath(p: string, baseDir: string): string {
  if (p === "~" || p.startsWith("~/")) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function readAuth(ctx: SchemaContext, m: Entries, defaults: Entries, path: string, baseDir: string, keyChecks: { path: string; node: Node; where: string }[]): AuthMethod | null {
  // The host's own auth keys win over defaults as a group, so a host can switch from key to password.
  const own = ["identityFile", "agent", "password"].filter((k) => m.has(k));
  const source = own.length > 0 ? m : defaults;
  const chosen = ["identityFile", "agent", "password"].filter((k) => source.has(k));
  if (chosen.length > 1) {
    ctx.report(source.get(chosen[1]!)!.key, path, `${path} sets ${chosen.join(" and ")}; choose one way to authenticate`, "keep exactly one of identityFile, agent: true or password: ask");
    return null;
  }
  const which = chosen[0];
  if (which === undefined) return { kind: "agent", socket: process.env.SSH_AUTH_SOCK ?? null };
  const entry = source.get(which)!;
  if (which === "identityFile") {
    const raw = readString(ctx, entry.value, `${path}.identityFile`);
    if (raw === null) return null;
    const file = expandPath(raw, baseDir);
    keyChecks.push({ path: file, node: entry.value ?? entry.key, where: `${path}.identityFile` });
    return { kind: "key", identityFile: file };
  }
  if (which === "agent") {
    const v = readBool(ctx, entry.value, `${path}.agent`);
    if (v === false) {
      ctx.report(entry.value, `${path}.agent`, "`agent: false` leaves no way to authenticate", "remove it and set identityFile or password: ask");
      return null;
    }
    return v === null ? null : { kind: "agent", socket: process.env.SSH_AUTH_SOCK ?? null };
  }
  const v = scalarValue(entry.value);
  if (v === "ask") return { kind: "password" };
  ctx.report(entry.value, `${path}.password`, `password must be "ask", found ${typeof v === "string" ? "a literal password" : describeNode(entry.value)}`, "passwords are never written to files: write `password: ask` and omstack asks for it at run time");
  return null;
}

function readSudo(ctx: SchemaContext, node: Node | null, path: string): SudoSetting | null {
  const v = scalarValue(node);
  if (typeof v === "boolean") return v ? { enabled: true, askPassword: false } : { enabled: false };
  const m = readMap(ctx, node, path, SUDO_KEYS);
  if (!m) return null;
  const pw = m.get("password");
  if (pw && scalarValue(pw.value) !== "ask") {
    ctx.report(pw.value, `${path}.password`, `sudo password must be "ask"`, "write `sudo: {password: ask}`; omstack asks for it at run time and never stores it");
    return null;
  }
  return { enabled: true, askPassword: Boolean(pw) };
}

function readBastion(ctx: SchemaContext, node: Node | null, path: string, baseDir: string, keyChecks: { path: string; node: Node; where: string }[]): BastionSpec | null {
  const m = readMap(ctx, node, path, BASTION_KEYS);
  if (!m) return null;
  const address = m.get("address") ? readAddress(ctx, m.get("address")!.value, `${path}.address`) : (ctx.report(node, `${path}.address`, "the bastion has no address", "add `address:` under bastion"), null);
  const port = m.get("port") ? readInt(ctx, m.get("port")!.value, `${path}.port`, 1, 65535) : 22;
  const user = m.get("user") ? readString(ctx, m.get("user")!.value, `${path}.user`) : "root";
  const auth = readAuth(ctx, m, new Map(), path, baseDir, keyChecks);
  if (address === null || port === null || user === null || auth === null) return null;
  return { address, port, user, auth };
}

function findDuplicates(ctx: SchemaContext, hosts: HostSpec[], root: Node, _text: string): void {
  const byName = new Map<string, number>();
  const byAddr = new Map<string, number>();
  hosts.forEach((h, i) => {
    const lname = h.name.toLowerCase();
    const addrKey = `${h.address.toLowerCase()}:${h.port}${h.bastion ? `@${h.bastion.address}` : ""}`;
    if (byName.has(lname)) ctx.report(hostNode(root, i, "name"), `hosts[${i}].name`, `duplicate host name "${h.name}" (also hosts[${byName.get(lname)}])`, "give every host a unique name");
    else byName.set(lname, i);
    if (byAddr.has(addrKey)) ctx.report(hostNode(root, i, "address"), `hosts[${i}].address`, `duplicate address ${h.address}:${h.port} for "${h.name}" (also hosts[${byAddr.get(addrKey)}] "${hosts[byAddr.get(addrKey)!]!.name}")`, "each host must have its own address (or port)");
    else byAddr.set(addrKey, i);
  });
}

function hostNode(root: Node, index: number, key: string): Node | null {
  // hosts are found again by walking the document; positions come from the node itself.
  const r = root as unknown as { get?: (k: string, keep: boolean) => unknown };
  const seq = r.get?.("hosts", true) as { items?: { get?: (k: string, keep: boolean) => unknown }[] } | undefined;
  const item = seq?.items?.[index];
  return (item?.get?.(key, true) as Node | undefined) ?? null;
}
