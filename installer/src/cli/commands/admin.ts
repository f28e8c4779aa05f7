// `omstack admin serve | create-user | reset-password | list-users | import-journal`: the admin service and its users, from the node's shell.
import { Command } from "commander";
import type { Register } from "../main.js";
import { createUser, generatePassword, importJournalFile, listUsers, parseRole, readPassword, resetPassword } from "../../admin/cli.js";
import { DEFAULT_PORT, serve } from "../../admin/server.js";

interface StateOpts {
  stateDir: string;
}

/** Adds the `admin` command group. */
export const registerAdmin: Register = (program, run) => {
  const admin = new Command("admin").description("the admin service and web console: serve it, manage its users");

  admin
    .command("serve")
    .description("run the admin service (HTTPS; plain HTTP only on loopback with --insecure-http)")
    .requiredOption("--state-dir <dir>", "state directory (database, certificate, uploaded bundles)")
    .option("--listen <addr>", "HOST:PORT to listen on", `0.0.0.0:${DEFAULT_PORT}`)
    .option("--insecure-http", "serve plain HTTP (allowed only on a loopback address, for development)", false)
    .option("--tls-cert <file>", "PEM certificate to serve instead of the generated self-signed one")
    .option("--tls-key <file>", "PEM private key for --tls-cert")
    .action(async (opts: StateOpts & { listen: string; insecureHttp: boolean; tlsCert?: string; tlsKey?: string }) =>
      run("admin-serve", async (rt) => {
        const server = await serve({ stateDir: opts.stateDir, listen: opts.listen, insecureHttp: opts.insecureHttp, ...(opts.tlsCert ? { tlsCert: opts.tlsCert } : {}), ...(opts.tlsKey ? { tlsKey: opts.tlsKey } : {}), deps: { logger: rt.log } });
        rt.note(`admin service listening on ${server.url}`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        rt.note("admin service stopping");
        await server.close();
        return 0;
      }),
    );

  admin
    .command("create-user")
    .description("create a user of the admin service (password from stdin, or generated and shown once)")
    .requiredOption("--state-dir <dir>", "state directory of the admin service")
    .requiredOption("--name <name>", "user name")
    .requiredOption("--role <role>", "admin | operator | viewer")
    .option("--password-stdin", "read the password from standard input", false)
    .action(async (opts: StateOpts & { name: string; role: string; passwordStdin: boolean }) =>
      run("admin-create-user", async (rt) => {
        const role = parseRole(opts.role);
        const password = opts.passwordStdin ? await readPassword(process.stdin) : generatePassword();
        const user = await createUser(opts.stateDir, opts.name, role, password);
        rt.print({ name: user.name, role: user.role, ...(opts.passwordStdin ? {} : { password }) }, () =>
          `created ${user.role} ${user.name}\n` + (opts.passwordStdin ? "" : `password (shown once, store it now): ${password}\n`),
        );
        return 0;
      }),
    );

  admin
    .command("reset-password")
    .description("set a new password for a user, unlock it and end its sessions (run on the node to recover access)")
    .requiredOption("--state-dir <dir>", "state directory of the admin service")
    .requiredOption("--name <name>", "user name")
    .option("--password-stdin", "read the new password from standard input", false)
    .action(async (opts: StateOpts & { name: string; passwordStdin: boolean }) =>
      run("admin-reset-password", async (rt) => {
        const password = opts.passwordStdin ? await readPassword(process.stdin) : generatePassword();
        await resetPassword(opts.stateDir, opts.name, password);
        rt.print({ name: opts.name, ...(opts.passwordStdin ? {} : { password }) }, () =>
          `password of ${opts.name} reset; the account is unlocked and its sessions ended\n` + (opts.passwordStdin ? "" : `new password (shown once, store it now): ${password}\n`),
        );
        return 0;
      }),
    );

  admin
    .command("list-users")
    .description("list the users of the admin service (names, roles, locked or not; never a password)")
    .requiredOption("--state-dir <dir>", "state directory of the admin service")
    .action(async (opts: StateOpts) =>
      run("admin-list-users", async (rt) => {
        const users = listUsers(opts.stateDir);
        rt.print({ users }, () => (users.length ? users.map((u) => `${u.name}\t${u.role}${u.locked ? "\tlocked" : ""}`).join("\n") + "\n" : "no users\n"));
        return 0;
      }),
    );

  admin
    .command("import-journal")
    .description("import the installer's journal (install.db or a journal export) into the install history; importing again adds no duplicates")
    .requiredOption("--state-dir <dir>", "state directory of the admin service")
    .requiredOption("--from <file>", "the installer's STATE_DIR/install.db, or a JSON export of it")
    .action(async (opts: StateOpts & { from: string }) =>
      run("admin-import-journal", async (rt) => {
        const r = importJournalFile(opts.stateDir, opts.from);
        rt.print(r, () => `imported ${r.runs.length} install run(s) from ${opts.from}: ${r.added} added, ${r.updated} updated, ${r.unchanged} unchanged\n`);
        return 0;
      }),
    );

  program.addCommand(admin);
};
