import { describe, expect, it } from "vitest";
import { parseCpuinfo } from "./cpuinfo.js";
import { parseMeminfo } from "./meminfo.js";
import { parseSwaps } from "./swaps.js";
import { capture } from "./testFixtures.js";

describe("/proc parsers on real files", () => {
  it("cpuinfo: i7-8650U, 1 socket, 4 cores, 8 threads", () => {
    const r = parseCpuinfo(capture("proc-node-exporter", "cpuinfo.txt"));
    expect(r.value).toMatchObject({ model: "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz", sockets: 1, cores: 4, threads: 8 });
    expect(r.value?.flags).toContain("avx2");
    expect(r.value?.flags).toHaveLength(120);
  });

  it("meminfo: MemTotal, MemAvailable and SwapTotal in bytes", () => {
    const r = parseMeminfo(capture("proc-jc", "meminfo.txt"));
    expect(r.value.memory).toEqual({ totalBytes: 3997272 * 1024, availableBytes: 3386876 * 1024 });
    expect(r.value.swapTotalBytes).toBe(3996668 * 1024);
  });

  it("swaps: one zram partition of 8388604 KiB", () => {
    expect(parseSwaps(capture("proc-node-exporter", "swaps.txt")).value).toBe(8388604 * 1024);
  });

  it("swaps: header only means swap is off", () => {
    const header = capture("proc-node-exporter", "swaps.txt").split("\n")[0] ?? "";
    expect(parseSwaps(`${header}\n`).value).toBe(0);
  });

  it("cpuinfo without processor lines yields null and a warning", () => {
    const r = parseCpuinfo("garbage\n");
    expect(r.value).toBeNull();
    expect(r.warnings).toHaveLength(1);
  });
});
