import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { list } from "tar";
import { describe, expect, it } from "vitest";
import { tarGz } from "./tar-writer.js";

describe("tarGz", () => {
  it("writes an archive GNU-compatible readers list, long paths included", async () => {
    const long = "deep/".repeat(25) + "file.txt";
    const dir = mkdtempSync(join(tmpdir(), "omstack-tar-"));
    try {
      const file = join(dir, "a.tgz");
      writeFileSync(file, tarGz([{ path: "a.txt", content: "hello" }, { path: long, content: Buffer.alloc(1000, 1) }]));
      const seen: { path: string; size: number }[] = [];
      await list({ file, strict: true, onReadEntry: (e) => seen.push({ path: e.path, size: e.size }) });
      expect(seen).toEqual([{ path: "a.txt", size: 5 }, { path: long, size: 1000 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("refuses '..' in a path", () => {
    expect(() => tarGz([{ path: "../x", content: "" }])).toThrow(/\.\./);
  });
});
