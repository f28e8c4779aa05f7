import { describe, expect, it } from "vitest";
import { T } from "./theme.js";
import { detectTermCaps, fitLine, toAscii, wrapText } from "./terminal.js";
import { renderAt, tick } from "./testing.js";

describe("terminal capabilities", () => {
  it("ASCII with --ascii or a non-UTF-8 locale; colour only on a TTY without NO_COLOR", () => {
    expect(detectTermCaps({ LANG: "en_US.UTF-8" }, {}, true)).toEqual({ ascii: false, color: true });
    expect(detectTermCaps({ LANG: "en_US.UTF-8" }, { ascii: true }, true).ascii).toBe(true);
    expect(detectTermCaps({ LANG: "C" }, {}, true).ascii).toBe(true);
    expect(detectTermCaps({ LC_ALL: "POSIX", LANG: "en_US.UTF-8" }, {}, true).ascii).toBe(true);
    expect(detectTermCaps({}, {}, true).ascii).toBe(true);
    expect(detectTermCaps({ LANG: "C.utf8", NO_COLOR: "1" }, {}, true).color).toBe(false);
    expect(detectTermCaps({ LANG: "C.utf8", TERM: "dumb" }, {}, true).color).toBe(false);
    expect(detectTermCaps({ LANG: "C.utf8" }, {}, false).color).toBe(false);
  });

  it("transliterates, cuts and wraps text", () => {
    expect(toAscii("a → b — ≥ 570 ✓ 日")).toBe("a -> b -- >= 570 + ?");
    expect(fitLine("abcdefghij", 6, true)).toBe("abc...");
    expect(fitLine("abcdefghij", 6, false)).toBe("abcde…");
    expect(wrapText("one two three four", 9)).toEqual(["one two", "three", "four"]);
  });
});
