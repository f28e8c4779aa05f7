import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCaptures } from "./index.js";
import { capture, FIXTURES_DIR } from "./testFixtures.js";

/** Loads a host profile the way the SSH test hosts serve it: file name = capture name. */
function profile(name: string): Map<string, string> {
  const dir = `${FIXTURES_DIR}hosts/${name}/`;
  return new Map(readdirSync(dir).filter((f) => f !== "SOURCE.md").map((f) => [f, readFileSync(dir + f, "utf8")]));
}

describe("parseCaptures on the host profiles", () => {
  it("h100-ib: GPU from the -q text, IB ports from ibv_devinfo", () => {
    const f = parseCaptures("gpu-01", profile("h100-ib"));
    expect(f.host).toBe("gpu-01");
    expect(f.os?.id).toBe("ubuntu");
    expect(f.gpus.map((g) => [g.model, g.memoryMiB, g.source])).toEqual([["NVIDIA H100 80GB HBM3", 81559, "nvidia-smi"]]);
    expect(f.gpuDriver).toEqual({ version: "590.48.01", cudaVersion: "13.1" });
    expect(f.rdma.filter((p) => p.state === "ACTIVE").map((p) => [p.device, p.linkLayer, p.rateGbps])).toEqual([["mlx5_0", "InfiniBand", 200]]);
    expect(f.system.swapBytes).toBe(8388604 * 1024);
    expect(f.warnings).toEqual([]);
  });

  it("a100-roce: RDMA ports from the rdma link fallback, netdevs from ibdev2netdev, OFED version", () => {
    const f = parseCaptures("gpu-02", profile("a100-roce"));
    expect(f.os).toMatchObject({ id: "rocky", versionId: "8.3" });
    expect(f.gpus[0]).toMatchObject({ model: "NVIDIA A100-SXM4-40GB", memoryMiB: 40960 });
    expect(f.gpuDriver).toEqual({ version: "510.47.03", cudaVersion: "11.6" });
    expect(f.rdma.map((p) => [p.device, p.port, p.linkLayer, p.state, p.netdev])).toEqual([
      ["mlx5_0", 1, "Ethernet", "ACTIVE", "enp4s0f0np0"],
      ["mlx5_1", 1, "Ethernet", "ACTIVE", "enp4s0f1np1"],
    ]);
    expect(f.ofed).toEqual({ version: "MLNX_OFED_LINUX-23.07-0.5.1.2" });
    // swaps.txt is absent here, so swap comes from meminfo's SwapTotal.
    expect(f.system.swapBytes).toBe(3996668 * 1024);
  });

  it("a100-mig: MIG enabled with four devices, openEuler id kept verbatim", () => {
    const f = parseCaptures("gpu-03", profile("a100-mig"));
    expect(f.os?.id).toBe("openEuler");
    expect(f.gpus[0]?.migMode).toBe("enabled");
    expect(f.gpus[0]?.migDevices).toHaveLength(4);
    expect(f.warnings.map((w) => w.capture)).toEqual(["nvidia-smi-q-x.xml"]);
  });

  it.each(["cpu-hdd", "tools-missing"])("%s: no GPU or RDMA tools is a fact, not a warning", (name) => {
    const f = parseCaptures("cpu-01", profile(name));
    expect(f.reachable).toBe(true);
    expect(f.gpus).toEqual([]);
    expect(f.gpuDriver).toBeNull();
    expect(f.rdma).toEqual([]);
    expect(f.cpu?.threads).toBe(8);
    expect(f.memory?.totalBytes).toBe(3997272 * 1024);
    expect(f.warnings).toEqual([]);
  });
});

describe("parseCaptures fallbacks", () => {
  const xml = capture("nvsmi-xml-a100-40gb-mig-510", "nvidia-smi-q-x.xml");
  const text = capture("nvsmi-q-text-h100-590", "nvidia-smi-q.txt");
  const csv = capture("nvsmi-query-csv-h100-590", "nvidia-smi-query.csv");

  it("XML wins over the text form and the CSV", () => {
    const f = parseCaptures("h", new Map([["nvidia-smi-q-x.xml", xml], ["nvidia-smi-q.txt", text], ["nvidia-smi-query.csv", csv]]));
    expect(f.gpus[0]?.model).toBe("NVIDIA A100-SXM4-40GB");
  });

  it("text is used when the XML is garbage", () => {
    const f = parseCaptures("h", new Map([["nvidia-smi-q-x.xml", "<html>oops</html>"], ["nvidia-smi-q.txt", text]]));
    expect(f.gpus[0]?.model).toBe("NVIDIA H100 80GB HBM3");
    expect(f.warnings.some((w) => w.capture === "nvidia-smi-q-x.xml")).toBe(true);
  });

  it("CSV alone gives GPUs and the driver, CUDA unknown", () => {
    const f = parseCaptures("h", new Map([["nvidia-smi-query.csv", csv]]));
    expect(f.gpus).toHaveLength(1);
    expect(f.gpuDriver).toEqual({ version: "590.48.01", cudaVersion: null });
  });

  it("ibv_devinfo wins over rdma link, and rdma link still supplies the netdev", () => {
    const f = parseCaptures(
      "h",
      new Map([
        ["ibv_devinfo.txt", capture("ibv-devinfo-roce-cx5-iwarp", "ibv_devinfo.txt")],
        ["rdma-link.txt", capture("daocloud-roce-cx5", "rdma-link.txt")],
      ]),
    );
    expect(f.rdma[0]).toMatchObject({ device: "mlx5_0", state: "DOWN", netdev: "enp4s0f0np0", firmware: "16.21.2010" });
    expect(f.rdma).toHaveLength(3);
  });

  it("an empty capture set gives empty facts and no warnings", () => {
    const f = parseCaptures("h", new Map());
    expect(f.os).toBeNull();
    expect(f.gpus).toEqual([]);
    expect(f.warnings).toEqual([]);
  });
});
