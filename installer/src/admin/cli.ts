// The admin subcommands' bodies, apart from commander so tests can call them directly.
import { randomBytes } from "node:crypto";
import { userInfo } from "node:os";
import { OmstackError } from "../errors.js";
import { openStateDb } from "./db/open.js";
import { checkPasswordPolicy, hashPassword } from "./auth/password.js";
import { isRole, ROLES, type Role } from "./auth/roles.js";
import { AuditLog } from "./store/audit.js";
import { UserStore } from "./store/users.js";
import { importJournal, readJournalSource, writeImportReceipt, type ImportResult } from "./journal/import.js";

/** Who did it, for audit entries written from the node's shell. */
export function localActor(): string {
  try {
    return `local:${userInfo().username}`;
  } catch {
    return `local:uid-${process.getuid?.() ?? "?"}`;
  }
}

/** Reads a password from a stream (standard input): the whole text minus one trailing newline. */
export async function readPassword(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) {
    chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
    if (chunks.reduce((n, x) => n + x.length, 0) > 4096) break;
  }
  const text = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (text.length === 0) {
    throw new OmstackError("E_ADMIN_PASSWORD_INPUT", "--password-stdin was given but standard input was empty", {
      remedy: "pipe the password in, e.g. `printf '%s' \"$PW\" | omstack admin create-user ... --password-stdin`, or leave out --password-stdin to have one generated",
    });
  }
  if (text.includes("\n")) {
    throw new OmstackError("E_ADMIN_PASSWORD_INPUT", "standard input held more than one line; a password is one line", { remedy: "pipe exactly one line (the password) to --password-stdin" });
  }
  return text;
}

/** A random password of 24 characters, shown once to the person at the console. */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

export function parseRole(value: string): Role {
  if (!isRole(value)) {
    throw new OmstackError("E_USAGE", `--role must be one of ${ROLES.join(", ")}; got ${JSON.stringify(value)}`, { remedy: "admin manages users and settings; operator runs upgrades and support bundles; viewer only reads" });
  }
  return value;
}

/** Creates a user in the state DB; audited as a local action. */
export async function createUser(stateDir: string, name: string, role: Role, password: string): Promise<{ name: string; role: Role }> {
  checkPasswordPolicy(password);
  const db = openStateDb(stateDir);
  try {
    const user = new UserStore(db).create(name, role, await hashPassword(password), new Date());
    new AuditLog(db).append({ actor: localActor(), action: "user.created", target: name, ip: "local", result: "success", detail: { role, via: "cli" } });
    return { name: user.name, role: user.role };
  } finally {
    db.close();
  }
}

/** Sets a new password, unlocks the account and ends its sessions; the way back in when every admin is locked out. */
export async function resetPassword(stateDir: string, name: string, password: string): Promise<void> {
  checkPasswordPolicy(password);
  const db = openStateDb(stateDir);
  try {
    new UserStore(db).setPassword(name, await hashPassword(password), new Date());
    new AuditLog(db).append({ actor: localActor(), action: "user.password_reset", target: name, ip: "local", result: "success", detail: { via: "cli" } });
  } finally {
    db.close();
  }
}

/** Imports the installer's journal (install.db or a JSON export) so the console's history shows the install; idempotent. */
export function importJournalFile(stateDir: string, from: string, now = new Date()): ImportResult {
  const exp = readJournalSource(from);
  const db = openStateDb(stateDir);
  try {
    const result = importJournal(db, exp);
    writeImportReceipt(stateDir, db, now);
    new AuditLog(db).append({ actor: localActor(), action: "journal.imported", target: from, ip: "local", result: "success", detail: { added: result.added, updated: result.updated, unchanged: result.unchanged } });
    return result;
  } finally {
    db.close();
  }
}

/** The users of the state DB (no secrets): name, role, and whether the account is locked now. */
export function listUsers(stateDir: string, now = new Date()): { name: string; role: Role; locked: boolean }[] {
  const db = openStateDb(stateDir);
  try {
    return new UserStore(db).list().map((u) => ({ name: u.name, role: u.role, locked: u.lockedUntil !== null && Date.parse(u.lockedUntil) > now.getTime() }));
  } finally {
    db.close();
  }
}
