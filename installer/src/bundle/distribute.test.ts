import { describe, expect, it } from "vitest";
import { relayRounds, shQuote } from "./distribute.js";

describe("relayRounds", () => {
  it("doubles the holders each round: 30 hosts in 5 rounds from one source", () => {
    const hosts = Array.from({ length: 30 }, (_, i) => `h${i + 1}`);
    const rounds = relayRounds(hosts);
    expect(rounds.map((r) => r.length)).toEqual([1, 2, 4, 8, 15]);
    const served = rounds.flat().map((t) => t.to);
    expect(new Set(served).size).toBe(30);
    // a sender always holds the bundle before its round
    const holders = new Set(["installer"]);
    for (const r of rounds) {
      for (const t of r) expect(holders.has(t.from)).toBe(true);
      for (const t of r) holders.add(t.to);
    }
  });
  it("needs no rounds for no hosts", () => expect(relayRounds([])).toEqual([]));
});

describe("shQuote", () => {
  it("quotes single quotes safely", () => expect(shQuote("a'b")).toBe(`'a'\\''b'`));
});
