import { defineConfig } from "vitest/config";

const inline = ["convex-test", "@convex-dev/rate-limiter", "@convex-dev/workpool", "@convex-dev/batch-worker"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    projects: [
      {
        // `extends: true`: each project inherits the root options (the 30 s timeout above).
        extends: true,
        // Convex functions run in a Web-standard runtime; so do their tests.
        test: {
          name: "convex",
          environment: "edge-runtime",
          include: ["convex/**/*.test.ts"],
          server: { deps: { inline } },
        },
      },
      {
        extends: true,
        // The offline runtime, simulator, scripts and HTTP-level tests run on Node.
        test: {
          name: "node",
          environment: "node",
          include: ["dev/**/*.test.ts", "scripts/**/*.test.ts", "src/**/*.test.ts", "tests/unit/**/*.test.ts", "tests/http/**/*.test.ts", "client/**/*.test.ts", "bench/**/*.test.ts"],
          server: { deps: { inline } },
        },
      },
    ],
  },
});
