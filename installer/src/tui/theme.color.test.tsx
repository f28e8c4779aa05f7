// Colour needs chalk to believe the terminal has colours, which is decided when ink is first imported: so this file
// sets FORCE_COLOR first and imports the UI dynamically (vitest gives each file its own module graph).
import { describe, expect, it } from "vitest";

process.env.FORCE_COLOR = "1";
const { T } = await import("./theme.js");
const { renderAt, tick } = await import("./testing.js");

describe("colour", () => {
  it("colours only when allowed (NO_COLOR gives plain text); ASCII mode prints no Unicode", async () => {
    const coloured = renderAt(<T tone="bad">gpu-01 ✗ failed</T>, { color: true });
    const plain = renderAt(<T tone="bad">gpu-01 ✗ failed</T>, { color: false, ascii: true });
    await tick();
    expect(coloured.lastFrame()).toContain("\u001b[31m");
    expect(plain.lastFrame()).toBe("gpu-01 x failed");
  });
});
