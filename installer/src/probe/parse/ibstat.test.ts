import { describe, expect, it } from "vitest";
import { parseCaptures } from "./index.js";
import { parseIbstat } from "./ibstat.js";
import { capture } from "./testFixtures.js";

const ib = (variant: string) => parseIbstat(capture(variant, "ibstat.txt"));
const row = (p: { device: string; port: number; linkLayer: string | null; state: string | null; rateGbps: number | null }) =>
  [p.device, p.port, p.linkLayer, p.state, p.rateGbps] as const;

describe("parseIbstat on real captures", () => {
  it("H100 node: 8 ConnectX-7 NDR ports at 400 plus a BlueField-3 RoCE bond at 200", () => {
    const r = ib("ibstat-h100-ndr-8x-gpud");
    expect(r.warnings).toEqual([]);
    expect(r.value.map(row)).toEqual([
      ...["mlx5_0", "mlx5_1", "mlx5_4", "mlx5_5", "mlx5_6", "mlx5_7", "mlx5_8", "mlx5_9"].map((d) => [d, 1, "InfiniBand", "ACTIVE", 400]),
      ["mlx5_bond_0", 1, "Ethernet", "ACTIVE", 200],
    ]);
    expect(r.value[0]).toMatchObject({ firmware: "28.41.1000", nodeGuid: "58a2:e103:00a7:820e", netdev: null });
    expect(r.value.at(-1)).toMatchObject({ firmware: "32.38.3056", nodeGuid: "58a2:e103:0076:0398" });
  });

  it("tab-indented output: IB NDR ports active, ConnectX-6 Dx Ethernet ports partly down (down ports have no rate)", () => {
    const r = ib("ibstat-h100-mixed-gpud");
    expect(r.warnings).toEqual([]);
    expect(r.value).toHaveLength(12);
    expect(r.value.filter((p) => p.linkLayer === "InfiniBand").map((p) => [p.device, p.state, p.rateGbps])).toEqual(
      ["mlx5_0", "mlx5_10", "mlx5_11", "mlx5_3", "mlx5_4", "mlx5_5", "mlx5_6", "mlx5_9"].map((d) => [d, "ACTIVE", 400]),
    );
    expect(r.value.filter((p) => p.linkLayer === "Ethernet").map(row)).toEqual([
      ["mlx5_1", 1, "Ethernet", "ACTIVE", 100],
      ["mlx5_2", 1, "Ethernet", "DOWN", null],
      ["mlx5_7", 1, "Ethernet", "DOWN", null],
      ["mlx5_8", 1, "Ethernet", "DOWN", null],
    ]);
    expect(r.value.find((p) => p.device === "mlx5_2")).toMatchObject({ firmware: "22.38.1002", nodeGuid: "946d:ae03:00c2:b691" });
  });

  it("output cut short by ibpanic: the 8 HDR ports read are kept and a warning says the list may be incomplete", () => {
    const r = ib("ibstat-a100-hdr-ibpanic-gpud");
    expect(r.value.map((p) => p.device)).toEqual(["mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3", "mlx5_4", "mlx5_5", "mlx5_6", "mlx5_7"]);
    expect(r.value.every((p) => p.linkLayer === "InfiniBand" && p.state === "ACTIVE" && p.rateGbps === 200 && p.firmware === "20.41.1000")).toBe(true);
    expect(r.value[7]?.nodeGuid).toBe("0015:5dff:fe34:11f2");
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]?.capture).toBe("ibstat.txt");
    expect(r.warnings[0]?.message).toMatch(/stopped early.*mlx5_8/);
  });

  it("a port block after an ibpanic line is not attributed to the CA before it", () => {
    const text = capture("ibstat-a100-hdr-ibpanic-gpud", "ibstat.txt");
    const port = text.slice(text.indexOf("        Port 1:"), text.indexOf("CA 'mlx5_1'"));
    expect(parseIbstat(`${text}${port}`).value).toHaveLength(8);
  });

  it("parseCaptures uses ibstat when ibv_devinfo is absent, and ibv_devinfo when both are there", () => {
    const only = parseCaptures("h", new Map([["ibstat.txt", capture("ibstat-h100-ndr-8x-gpud", "ibstat.txt")]]));
    expect(only.rdma).toHaveLength(9);
    const both = parseCaptures(
      "h",
      new Map([
        ["ibstat.txt", capture("ibstat-h100-ndr-8x-gpud", "ibstat.txt")],
        ["ibv_devinfo.txt", capture("ibv-devinfo-vv-ib-cx6", "ibv_devinfo.txt")],
      ]),
    );
    expect(both.rdma.map((p) => p.device)).toEqual(["mlx5_0", "mlx5_1"]);
  });
});
