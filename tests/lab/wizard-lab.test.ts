// The parts of tests/lab/wizard-lab.sh that need no lab: it refuses bad input with a clear message and exit 2,
// before it takes the lab lock or creates anything (the wizard on the real lab is the script itself: RESULTS.md).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const HERE = new URL(".", import.meta.url).pathname;
const SCRIPT = join(HERE, "wizard-lab.sh");
const cache = "/nonexistent/omstack-lab-wizard-test-cache";

function run(args: string[]) {
  return spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8", env: { ...process.env, OMSTACK_LAB_CACHE: cache, OMSTACK_LAB_LOCK: "/nonexistent/lock" }, timeout: 30_000 });
}

describe("wizard-lab.sh refuses bad input before touching the lab", () => {
  it.each([
    [["--size", "60x20"], "--size 60x20 is below the wizard's 80x24"],
    [["--size", "wide"], "--size must be COLSxROWS like 100x30, found 'wide'"],
    [["--lock-wait", "soon"], "--lock-wait must be whole seconds, found 'soon'"],
    [["--frobnicate"], "unknown option '--frobnicate'"],
    [["--bundle", "/nonexistent/omstack.tar"], "no bundle (/nonexistent/omstack.tar)"],
  ])("%j", (args, message) => {
    const r = run(args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe("");
    expect(existsSync(cache), "nothing is created").toBe(false);
  });

  it("--help prints the usage from the script's header", () => {
    const r = run(["--help"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("tests/lab/wizard-lab.sh [OPTIONS]");
    expect(r.stderr).toContain("--size COLSxROWS");
  });
});
