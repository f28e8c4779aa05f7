import { describe, expect, it } from "vitest";
import { parseIbdev2netdev } from "./ibdev2netdev.js";
import { parseLspci } from "./lspci.js";
import { parseOfedInfo } from "./ofedInfo.js";
import { parseRdmaLink } from "./rdmaLink.js";
import { capture } from "./testFixtures.js";
import { normaliseState, parseRateGbps } from "./util.js";

const V = "daocloud-roce-cx5";

describe("RDMA helpers on one real RoCE host", () => {
  it("rdma link show", () => {
    const r = parseRdmaLink(capture(V, "rdma-link.txt"));
    expect(r.value.map((p) => [p.device, p.port, p.state, p.netdev, p.linkLayer])).toEqual([
      ["mlx5_0", 1, "ACTIVE", "enp4s0f0np0", "Ethernet"],
      ["mlx5_1", 1, "ACTIVE", "enp4s0f1np1", "Ethernet"],
    ]);
  });

  it("ibdev2netdev", () => {
    expect(parseIbdev2netdev(capture(V, "ibdev2netdev.txt")).value).toEqual([
      { device: "mlx5_0", port: 1, netdev: "enp4s0f0np0", up: true },
      { device: "mlx5_1", port: 1, netdev: "enp4s0f1np1", up: true },
    ]);
  });

  it("ofed_info -s without the trailing colon", () => {
    expect(parseOfedInfo(capture(V, "ofed_info.txt")).value).toEqual({ version: "MLNX_OFED_LINUX-23.07-0.5.1.2" });
  });

  it("lspci -nn (no -D): two ConnectX-5 HCAs, no GPU", () => {
    const r = parseLspci(capture(V, "lspci.txt"));
    expect(r.warnings).toEqual([]);
    expect(r.value.gpus).toEqual([]);
    expect(r.value.hcas.map((h) => [h.address, h.classCode, h.vendorId, h.deviceId, h.description])).toEqual([
      ["3b:00.0", "0200", "15b3", "1017", "Mellanox Technologies MT27800 Family [ConnectX-5]"],
      ["3b:00.1", "0200", "15b3", "1017", "Mellanox Technologies MT27800 Family [ConnectX-5]"],
    ]);
  });

  it.each([
    ["PORT_ACTIVE", "ACTIVE"],
    ["PORT_ACTIVE (4)", "ACTIVE"],
    ["Active", "ACTIVE"],
    ["4: ACTIVE", "ACTIVE"],
    ["LinkUp", "LINK_UP"],
    ["PORT_DOWN (1)", "DOWN"],
  ])("state %s → %s", (raw, want) => {
    expect(normaliseState(raw)).toBe(want);
  });

  it("rate 100 Gb/sec (4X EDR) → 100", () => {
    expect(parseRateGbps("100 Gb/sec (4X EDR)")).toBe(100);
  });
});
