import { describe, expect, it } from "vitest";
import { parseIbvDevinfo, rateFromWidthSpeed } from "./ibvDevinfo.js";
import { capture } from "./testFixtures.js";

describe("parseIbvDevinfo on real outputs", () => {
  it("-vv, two ConnectX-6 InfiniBand ports: HDR 4X active, one disabled", () => {
    const r = parseIbvDevinfo(capture("ibv-devinfo-vv-ib-cx6", "ibv_devinfo.txt"));
    expect(r.warnings).toEqual([]);
    expect(r.value).toEqual([
      { device: "mlx5_0", port: 1, linkLayer: "InfiniBand", state: "ACTIVE", rateGbps: 200, firmware: "20.37.1700", nodeGuid: "88e9:a4ff:ff25:a462", netdev: null },
      { device: "mlx5_1", port: 1, linkLayer: "InfiniBand", state: "DOWN", rateGbps: null, firmware: "20.37.1700", nodeGuid: "88e9:a4ff:ff25:a463", netdev: null },
    ]);
  });

  it("without -v, RoCE (link_layer Ethernet) plus an iWARP adapter with two ports", () => {
    const r = parseIbvDevinfo(capture("ibv-devinfo-roce-cx5-iwarp", "ibv_devinfo.txt"));
    expect(r.value.map((p) => [p.device, p.port, p.linkLayer, p.state, p.rateGbps])).toEqual([
      ["mlx5_0", 1, "Ethernet", "DOWN", null],
      ["cxgb4_0", 1, "Ethernet", "DOWN", null],
      ["cxgb4_0", 2, "Ethernet", "DOWN", null],
    ]);
    expect(r.value[0]?.firmware).toBe("16.21.2010");
  });

  it("without -v, old mlx4 layout with 'Device ports:'", () => {
    const r = parseIbvDevinfo(capture("ibv-devinfo-ib-cx3", "ibv_devinfo.txt"));
    expect(r.value.map((p) => `${p.device}/${p.port} ${p.state}`)).toEqual(["mlx4_1/1 ACTIVE", "mlx4_1/2 DOWN", "mlx4_0/1 ACTIVE", "mlx4_0/2 DOWN"]);
    expect(r.value[0]?.nodeGuid).toBe("7cfe:9003:00a5:95c0");
  });

  it.each([
    ["4X (2)", "50.0 Gbps (64)", 200],
    ["4X (2)", "25.0 Gbps (32)", 100],
    ["4X (2)", "invalid speed (0)", null],
    [undefined, undefined, null],
  ])("rate %s × %s = %s", (w, s, want) => {
    expect(rateFromWidthSpeed(w, s)).toBe(want);
  });
});
