import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import convexPlugin from "@convex-dev/eslint-plugin";

export default tseslint.config(
  { ignores: ["dist", "node_modules", "convex/_generated", ".data", "tests/e2e/screenshots"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Generic helpers over Convex's function types need `any` at the boundaries.
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    files: ["src/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "warn",
    },
  },
  // Convex's own rules: args validators, table-named db calls, no .filter on queries...
  ...convexPlugin.configs.recommended,
  {
    // Type-aware rules: a promise nobody awaits is a write or a call that may never happen.
    files: ["convex/**/*.ts", "dev/**/*.ts", "scripts/**/*.ts", "tests/**/*.ts", "bench/**/*.ts", "client/**/*.ts", "src/**/*.{ts,tsx}"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  {
    // Tests stub the deployment's variables; auth.config.ts is evaluated when the functions are
    // pushed, outside the functions' runtime, where process.env is how Convex documents it.
    files: ["convex/**/*.test.ts", "convex/test.setup.ts", "convex/auth.config.ts"],
    rules: { "@convex-dev/no-process-env": "off" },
  },
  {
    // Convex functions run in Convex's runtime: no Node built-ins outside "use node" files.
    files: ["convex/**/*.ts"],
    ignores: ["convex/**/*.test.ts", "convex/test.setup.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: ["node:*", "fs", "path", "crypto", "http", "https", "buffer"] }],
      "no-restricted-globals": ["error", { name: "Buffer", message: "Buffer does not exist in Convex's runtime; use Uint8Array/TextEncoder." }],
    },
  },
);
