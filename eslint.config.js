import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";

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
