// Values from real captures of the OMStack dev VM (tests/fixtures/captures/devvm-debian12*, see their SOURCE.md).
import { describe, expect, it } from "vitest";
import { readCaptureDir } from "../captureDir.js";
import type { ProbeWarning } from "../facts.js";
import { parseContainerRuntimes } from "./containerRuntimes.js";
import { parseCpuinfo } from "./cpuinfo.js";
import { parseDfVar } from "./df.js";
import { parseCaptures } from "./index.js";
import { parseIpAddr } from "./ipAddr.js";
import { parseLsblk } from "./lsblk.js";
import { parseMeminfo } from "./meminfo.js";
import { parseNetSpeed } from "./netSpeed.js";
import { parseSs } from "./ss.js";
import { parseSwaps } from "./swaps.js";
import { capture, FIXTURES_DIR } from "./testFixtures.js";
import { parseUname } from "./uname.js";

const VM = "devvm-debian12";
const VDA_BYTES = 274877906944; // 256 GiB, as lsblk -b printed it

describe("lsblk variants captured on one machine agree", () => {
  it.each([
    ["-J -b -O", "devvm-debian12", ["/run/netns", "/"], true],
    ["-J -b -o NAME,…,MOUNTPOINT", "devvm-debian12-lsblk-columns", ["/"], true],
    ["-J (human sizes, no ROTA column)", "devvm-debian12-lsblk-human", ["/run/netns", "/"], null],
  ])("%s", (_cmd, variant, vdaMounts, vdaRota) => {
    const r = parseLsblk(capture(variant, "lsblk.json"));
    expect(r.warnings).toEqual([]);
    expect(r.value.map((d) => [d.name, d.type, d.sizeBytes, d.children.length])).toEqual([
      ["zram0", "disk", 0, 0],
      ["vda", "disk", VDA_BYTES, 0],
    ]);
    expect(r.value[1]).toMatchObject({ rotational: vdaRota, transport: null, model: null, fstype: null, mountpoints: vdaMounts });
    // -O prints "mountpoints": [null] for an unmounted device: no mount point, not the string "null".
    expect(r.value[0]?.mountpoints).toEqual([]);
  });
});

describe("single parsers on the dev VM captures", () => {
  it("ip -j addr: six interfaces with MAC, CIDR addresses, state and MTU", () => {
    const r = parseIpAddr(capture(VM, "ip-addr.json"));
    expect(r.warnings).toEqual([]);
    expect(r.value.map((n) => [n.name, n.state, n.mtu])).toEqual([
      ["lo", "UNKNOWN", 65536],
      ["ifb0", "DOWN", 1500],
      ["ifb1", "DOWN", 1500],
      ["eth0", "UP", 1400],
      ["oml10br", "UP", 1500],
      ["oml10v0", "UP", 1500],
    ]);
    expect(r.value[3]).toMatchObject({ mac: "02:fc:00:00:00:01", addresses: ["192.0.2.2/24", "fd00::2/64", "fe80::fc:ff:fe00:1/64"] });
    expect(r.value[0]?.addresses).toEqual(["127.0.0.1/8", "::1/128"]);
    expect(r.value[1]?.addresses).toEqual([]);
  });

  it("net-speed: -1 (virtio, no link speed) and '-' are unknown, 10000 is kept", () => {
    const r = parseNetSpeed(capture(VM, "net-speed.txt"));
    expect(r.warnings).toEqual([]);
    expect([...r.value]).toEqual([
      ["eth0", null],
      ["ifb0", null],
      ["ifb1", null],
      ["lo", null],
      ["oml10br", 10000],
      ["oml10v0", 10000],
    ]);
  });

  it("uname -srm", () => {
    expect(parseUname(capture(VM, "uname.txt"))).toEqual({ value: { kernel: "6.18.44-fc-v1252", arch: "x86_64" }, warnings: [] });
  });

  it("df -P -B1 /var: the Available column in bytes", () => {
    expect(parseDfVar(capture(VM, "df-var.txt"))).toEqual({ value: 84324429824, warnings: [] });
  });

  it("ss -H -lntu: tcp and udp listeners, IPv6 brackets removed", () => {
    expect(parseSs(capture(VM, "ss-listen.txt"))).toEqual({
      value: [
        { proto: "udp", address: "::1", port: 45380 },
        { proto: "tcp", address: "127.0.0.1", port: 42255 },
        { proto: "tcp", address: "0.0.0.0", port: 2024 },
      ],
      warnings: [],
    });
  });

  it("/proc/swaps with only the header: swap is off", () => {
    expect(parseSwaps(capture(VM, "swaps.txt")).value).toBe(0);
  });

  it("/proc/meminfo and /proc/cpuinfo of a 2-vCPU AMD EPYC guest", () => {
    const m = parseMeminfo(capture(VM, "meminfo.txt"));
    expect(m.value.memory).toEqual({ totalBytes: 24683792 * 1024, availableBytes: 24080844 * 1024 });
    expect(m.value.swapTotalBytes).toBe(0);
    const c = parseCpuinfo(capture(VM, "cpuinfo.txt"));
    expect(c.value).toMatchObject({ model: "AMD EPYC", sockets: 1, cores: 2, threads: 2 });
    expect(c.value?.flags).toContain("avx512f");
    expect(c.value?.flags).toHaveLength(106);
  });

  it("container runtimes: docker only", () => {
    expect(parseContainerRuntimes(capture(VM, "container-runtimes.txt"))).toEqual({ value: ["docker"], warnings: [] });
  });
});

describe("the whole dev VM capture directory through readCaptureDir and parseCaptures", () => {
  it("gives complete HostFacts with no warnings", async () => {
    const dirWarnings: ProbeWarning[] = [];
    const captures = await readCaptureDir(`${FIXTURES_DIR}captures/${VM}`, { onWarning: (w) => dirWarnings.push(w) });
    expect(dirWarnings).toEqual([]);
    const f = parseCaptures("devvm", captures);
    expect(f.warnings).toEqual([]);
    expect(f.os).toMatchObject({ id: "debian", versionId: "12" });
    expect([f.kernel, f.arch]).toEqual(["6.18.44-fc-v1252", "x86_64"]);
    expect(f.gpus).toEqual([]);
    expect(f.rdma).toEqual([]);
    expect(f.disks.map((d) => d.name)).toEqual(["zram0", "vda"]);
    expect(f.nics.find((n) => n.name === "oml10br")).toMatchObject({ speedMbps: 10000, addresses: ["198.18.10.1/24"], rdmaDevice: null });
    expect(f.nics.find((n) => n.name === "eth0")?.speedMbps).toBeNull();
    expect(f.system).toMatchObject({
      swapBytes: 0,
      timeSynchronized: null,
      containerRuntimes: ["docker"],
      varFreeBytes: 84324429824,
      kernelModules: [],
    });
    expect(f.system.listeningPorts).toHaveLength(3);
  });
});
