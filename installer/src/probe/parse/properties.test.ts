// Property tests: no input — random text, random bytes, truncated real captures, deep nesting — makes a parser throw.
import { readdirSync, readFileSync, statSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseChronyTracking } from "./chrony.js";
import { parseContainerRuntimes } from "./containerRuntimes.js";
import { parseCpuinfo } from "./cpuinfo.js";
import { parseDfVar } from "./df.js";
import { parseIbdev2netdev } from "./ibdev2netdev.js";
import { parseIbstat } from "./ibstat.js";
import { parseIbvDevinfo } from "./ibvDevinfo.js";
import { parseCaptures } from "./index.js";
import { parseIpAddr } from "./ipAddr.js";
import { parseLsblk } from "./lsblk.js";
import { parseLspci } from "./lspci.js";
import { parseMeminfo } from "./meminfo.js";
import { parseModules } from "./modules.js";
import { parseNetSpeed } from "./netSpeed.js";
import { parseNvcc } from "./nvcc.js";
import { parseNvidiaSmiCsv } from "./nvidiaSmiCsv.js";
import { parseNvidiaSmiText } from "./nvidiaSmiText.js";
import { parseNvidiaSmiXml } from "./nvidiaSmiXml.js";
import { parseNvidiaVersion } from "./nvidiaVersion.js";
import { parseOfedInfo } from "./ofedInfo.js";
import { parseOsRelease } from "./osRelease.js";
import { parseRdmaLink } from "./rdmaLink.js";
import { parseSs } from "./ss.js";
import { parseSwaps } from "./swaps.js";
import { FIXTURES_DIR } from "./testFixtures.js";
import { parseTimedatectl } from "./timedatectl.js";
import { parseUname } from "./uname.js";
import { KNOWN_CAPTURE_NAMES } from "../captureDir.js";

const PARSERS: Record<string, (t: string) => { value: unknown; warnings: unknown[] }> = {
  parseChronyTracking, parseContainerRuntimes, parseCpuinfo, parseDfVar, parseIbdev2netdev, parseIbstat, parseIbvDevinfo,
  parseIpAddr, parseLsblk: (t) => parseLsblk(t), parseLspci, parseMeminfo, parseModules, parseNetSpeed, parseNvcc,
  parseNvidiaSmiCsv, parseNvidiaSmiText, parseNvidiaSmiXml, parseNvidiaVersion, parseOfedInfo, parseOsRelease, parseRdmaLink,
  parseSs, parseSwaps, parseTimedatectl, parseUname,
};

const realCaptures: string[] = [];
for (const d of readdirSync(`${FIXTURES_DIR}captures`)) {
  const dir = `${FIXTURES_DIR}captures/${d}`;
  if (!statSync(dir).isDirectory()) continue;
  for (const f of readdirSync(dir)) if (f !== "SOURCE.md") realCaptures.push(readFileSync(`${dir}/${f}`, "utf8"));
}

const nestedJson = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const nestedXml = (depth: number): string => `<nvidia_smi_log>${"<gpu>".repeat(depth)}${"</gpu>".repeat(depth)}</nvidia_smi_log>`;
const lsblkDeep = (depth: number): string => {
  let node = '{"name":"x"}';
  for (let i = 0; i < depth; i++) node = `{"name":"d${i}","children":[${node}]}`;
  return `{"blockdevices":[${node}]}`;
};

const inputs = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString("utf8")),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.integer({ min: 0, max: realCaptures.length - 1 }).chain((i) => {
    const t = realCaptures[i] ?? "";
    return fc.integer({ min: 0, max: t.length }).map((cut) => t.slice(0, cut));
  }),
  fc.integer({ min: 1, max: 5000 }).map(nestedJson),
  fc.integer({ min: 1, max: 3000 }).map(nestedXml),
  fc.integer({ min: 1, max: 500 }).map(lsblkDeep),
);

describe("no input makes a parser throw", () => {
  it.each(Object.entries(PARSERS))("%s", (_name, parse) => {
    fc.assert(
      fc.property(inputs, (text) => {
        const r = parse(text);
        expect(Array.isArray(r.warnings)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("very deep JSON and XML still return (with warnings at most)", () => {
    for (const parse of Object.values(PARSERS)) {
      expect(() => parse(nestedJson(20_000))).not.toThrow();
      expect(() => parse(nestedXml(5_000))).not.toThrow();
      expect(() => parse(lsblkDeep(1_000))).not.toThrow();
    }
  });

  it("parseCaptures never throws, whatever the files hold", () => {
    const names = [...KNOWN_CAPTURE_NAMES];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...names), inputs), { maxLength: 12 }), fc.string({ maxLength: 30 }), (files, host) => {
        const f = parseCaptures(host, new Map(files));
        expect(f.host).toBe(host);
        expect(Array.isArray(f.gpus) && Array.isArray(f.rdma) && Array.isArray(f.warnings)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
