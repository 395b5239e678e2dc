// The OpenAPI document: served at GET /v1/openapi.json, structurally a valid OpenAPI 3.1
// document, listing exactly the routes the router mounts under /v1, and docs/dex-api.md rendered
// from it and current.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import http from "../../convex/http";
import { documentedRoutes, openApiDocument, renderMarkdown, type OpenApiDocument } from "../../convex/model/dexApi/openapi";
import { newTest } from "../../convex/test.setup";

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** The OpenAPI 3.1 rules a client generator relies on, checked by hand (no 3.1 validator is installed). */
function structuralProblems(doc: OpenApiDocument): string[] {
  const problems: string[] = [];
  if (!/^3\.1\.\d+$/.test(doc.openapi)) problems.push(`openapi is ${doc.openapi}`);
  if (typeof doc.info.title !== "string" || typeof doc.info.version !== "string") problems.push("info needs title and version");
  const schemes = (doc.components.securitySchemes ?? {}) as Record<string, unknown>;
  const ids = new Set<string>();
  const json = JSON.stringify(doc);
  for (const ref of json.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
    if (!(ref[1] in ((doc.components.schemas ?? {}) as object))) problems.push(`unresolved $ref ${ref[1]}`);
  }
  for (const [p, item] of Object.entries(doc.paths)) {
    if (!p.startsWith("/")) problems.push(`path ${p} must start with /`);
    const templated = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, raw] of Object.entries(item)) {
      const op = raw as { operationId?: string; responses?: Record<string, unknown>; parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[]; security?: Record<string, string[]>[]; requestBody?: { content?: Record<string, { schema?: unknown }> } };
      const where = `${method.toUpperCase()} ${p}`;
      if (!METHODS.has(method)) problems.push(`${where}: unknown method`);
      if (!op.operationId) problems.push(`${where}: no operationId`);
      else if (ids.has(op.operationId)) problems.push(`${where}: duplicate operationId ${op.operationId}`);
      else ids.add(op.operationId);
      const statuses = Object.keys(op.responses ?? {});
      if (!statuses.some((s) => /^2\d\d$/.test(s))) problems.push(`${where}: no success response`);
      for (const s of statuses) if (!/^[1-5]\d\d$/.test(s)) problems.push(`${where}: bad status ${s}`);
      for (const name of templated) {
        if (!op.parameters?.some((q) => q.in === "path" && q.name === name && q.required === true)) problems.push(`${where}: path parameter ${name} not declared as required`);
      }
      for (const q of op.parameters ?? []) {
        if (!["path", "query", "header", "cookie"].includes(q.in)) problems.push(`${where}: parameter ${q.name} in ${q.in}`);
        if (q.in === "path" && !templated.includes(q.name)) problems.push(`${where}: path parameter ${q.name} not in the path`);
        if (typeof q.schema !== "object") problems.push(`${where}: parameter ${q.name} without schema`);
      }
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) if (!(scheme in schemes)) problems.push(`${where}: unknown security scheme ${scheme}`);
      }
      if (op.requestBody && typeof op.requestBody.content?.["application/json"]?.schema !== "object") problems.push(`${where}: request body without a JSON schema`);
    }
  }
  return problems;
}

/**
 * The router's routes under /v1 (without preflights and the JSON 404 catch-all), `{id}` for a
 * prefix's id. The staff-only admin API (/v1/admin/*, admin keys, convex/admin/README.md) is not
 * part of the Dex API document: Dex never calls it and customers' keys are refused there.
 */
function mountedRoutes(): string[] {
  return http
    .getRoutes()
    .filter(([p, method]) => p.startsWith("/v1/") && !p.startsWith("/v1/admin/") && p !== "/v1/*" && method !== "OPTIONS")
    .map(([p, method]) => `${method} ${p.endsWith("*") ? `${p.slice(0, -1)}{id}` : p}`)
    .sort();
}

describe("the OpenAPI document", () => {
  test("is served at GET /v1/openapi.json without credentials and is a structurally valid OpenAPI 3.1 document", async () => {
    const t = newTest();
    const res = await t.fetch("/v1/openapi.json", { method: "GET" });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toBe("3.1.0");
    expect(structuralProblems(doc)).toEqual([]);
    expect(doc.paths["/v1/email/send"].post).toMatchObject({
      operationId: "sendEmail",
      security: [{ apiKey: [] }, { oauth: ["email"] }],
      requestBody: { content: { "application/json": { schema: { type: "object", required: expect.arrayContaining(["to", "subject", "text"]) } } } },
    });
  });

  test("the structure check catches what it checks", () => {
    const broken = openApiDocument();
    broken.paths["/v1/calendar/events/{id}"].put.parameters = [];
    delete (broken.paths["/v1/identity"].get.responses as Record<string, unknown>)["200"];
    expect(structuralProblems(broken)).toEqual([
      "GET /v1/identity: no success response",
      "PUT /v1/calendar/events/{id}: path parameter id not declared as required",
    ]);
  });

  test("lists exactly the routes mounted under /v1", () => {
    const mounted = mountedRoutes();
    expect(mounted.length).toBeGreaterThan(25);
    expect(documentedRoutes(openApiDocument())).toEqual(mounted);
  });

  test("docs/dex-api.md is rendered from the current document (npx tsx scripts/dex-api-docs.ts)", () => {
    const file = readFileSync(path.join(__dirname, "..", "..", "docs", "dex-api.md"), "utf8");
    expect(file).toBe(renderMarkdown(openApiDocument()));
  });
});
