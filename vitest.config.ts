import { defineConfig } from "vitest/config";

// One suite: unit tests beside the code, integration tests (real SSH test hosts, real registry, real Chromium) under tests/.
export default defineConfig({
  test: {
    include: ["installer/src/**/*.test.ts", "installer/src/**/*.test.tsx", "tests/**/*.test.ts"],
    exclude: ["**/node_modules/**", "installer/dist/**"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
  },
});
