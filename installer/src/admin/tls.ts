// The HTTPS certificate: supplied files, or a self-signed one generated once into the state directory with openssl.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { OmstackError } from "../errors.js";

const run = promisify(execFile);

/** Key and certificate in PEM. */
export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  generated: boolean;
}

/** Reads `certFile`/`keyFile` when given; otherwise reuses or creates tls/admin.{crt,key} under the state dir (key 0600). */
export async function loadOrCreateTls(stateDir: string, opts: { certFile?: string; keyFile?: string; names?: string[] } = {}): Promise<TlsMaterial> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) {
      throw new OmstackError("E_ADMIN_TLS", "a supplied certificate needs both --tls-cert and --tls-key", { remedy: "pass both files, or neither to use the generated self-signed certificate" });
    }
    try {
      return { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile), generated: false };
    } catch (e) {
      throw new OmstackError("E_ADMIN_TLS", `the TLS files could not be read: ${(e as Error).message}`, { remedy: "check the paths and that the service user may read them" });
    }
  }
  const certPath = join(stateDir, "tls-admin.crt");
  const keyPath = join(stateDir, "tls-admin.key");
  let generated = false;
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    const names = [...new Set(["localhost", hostname(), ...(opts.names ?? [])])];
    const san = [...names.map((n) => `DNS:${n}`), "IP:127.0.0.1", "IP:::1"].join(",");
    try {
      await run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-sha256", "-days", "825", "-subj", `/CN=${hostname()}/O=OMStack admin`, "-addext", `subjectAltName=${san}`, "-keyout", keyPath, "-out", certPath], { timeout: 30_000 });
    } catch (e) {
      throw new OmstackError("E_ADMIN_TLS", `a self-signed certificate could not be generated with openssl: ${(e as Error).message}`, {
        remedy: "install openssl, or supply a certificate with --tls-cert and --tls-key",
      });
    }
    generated = true;
  }
  chmodSync(keyPath, 0o600);
  chmodSync(certPath, 0o600);
  return { cert: readFileSync(certPath), key: readFileSync(keyPath), generated };
}
