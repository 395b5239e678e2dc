// Writes docs/dex-api.md from the OpenAPI document the deployment serves at /v1/openapi.json
// (convex/model/dexApi/openapi.ts). Run after changing an operation or a schema:
//   npx tsx scripts/dex-api-docs.ts
// tests/http/dexApiDocument.test.ts fails while the file is out of date.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openApiDocument, renderMarkdown } from "../convex/model/dexApi/openapi";

const target = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "dex-api.md");
writeFileSync(target, renderMarkdown(openApiDocument()));
console.log(`wrote ${path.relative(process.cwd(), target)}`);
