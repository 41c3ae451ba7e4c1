import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: keep the pool small so child-process tests (crash, git, kubectl) are not starved.
    maxWorkers: 2,
  },
});
