import { describe, expect, it } from "vitest";
import { LineInput } from "./widgets.js";
import { KEY, press, renderAt, waitFor } from "./testing.js";

describe("LineInput", () => {
  it("keys that arrive together in one chunk (a held Backspace, a slow SSH link, tmux send-keys) each count", async () => {
    const submitted: string[] = [];
    const r = renderAt(<LineInput initial="omstack" onSubmit={(v) => submitted.push(v)} />);
    await waitFor(r.lastFrame, (f) => f.includes("omstack█"));
    // ink hands a run of plain bytes to the handler as one input: seven DELs in one write
    await press(r.stdin, KEY.backspace.repeat(7));
    await waitFor(r.lastFrame, (f) => f.trim() === "█");
    // Backspaces mixed into typed text, and a chunk that ends with Enter
    await press(r.stdin, `lab-x${KEY.backspace}${KEY.backspace}1\r`);
    expect(submitted).toEqual(["lab1"]);
    // more Backspaces than characters ("lab1ab" has 6) leave an empty value, never an error
    await press(r.stdin, `ab${KEY.backspace.repeat(9)}`, KEY.enter);
    expect(submitted).toEqual(["lab1", ""]);
  });

  it("one Backspace per key still works, and control characters are never typed into the value", async () => {
    const submitted: string[] = [];
    const r = renderAt(<LineInput clearOnSubmit onSubmit={(v) => submitted.push(v)} />);
    await press(r.stdin, "root", KEY.backspace, KEY.backspace, "ot", "\u0007x", KEY.enter);
    expect(submitted).toEqual(["rootx"]);
  });
});
