// The OpenAPI 3.1 document of everything under /v1, generated from the operation table and its
// zod schemas (zod's own JSON Schema export, draft 2020-12, which OpenAPI 3.1 uses as is), and
// the Markdown reference rendered from that document (docs/dex-api.md). Pure.
import { z } from "zod";
import { DEX_API_LIMITS } from "./limits";
import { OPERATIONS, SCOPES, type Operation } from "./operations";
import { errorSchema } from "./schemas";

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const out = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
  delete out.$schema;
  return out;
}

function errorResponse(description: string): Json {
  return { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
}

function security(o: Operation): Json[] {
  if (o.access === "none") return [];
  if (o.access === "api_key") return [{ apiKey: [] }];
  return [{ apiKey: [] }, { oauth: [o.access.scope] }];
}

function parameters(o: Operation): Json[] {
  const params: Json[] = [];
  if (o.path.includes("{id}")) params.push({ name: "id", in: "path", required: true, schema: { type: "string" } });
  if (o.query) {
    const schema = jsonSchema(o.query, "input") as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      const { description, ...rest } = prop as Json & { description?: string };
      params.push({ name, in: "query", required: schema.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest });
    }
  }
  return params;
}

function describeOperation(o: Operation): string {
  const lines = [o.summary];
  if (o.access === "api_key") lines.push("Requires an API key (OAuth access tokens are refused).");
  else if (o.access !== "none") lines.push(`Scope: \`${o.access.scope}\` (an API key has every scope).`);
  if (o.feature) lines.push(`Plan feature: \`${o.feature}\` (403 \`feature_not_in_plan\` without it).`);
  if (o.needs) lines.push(`Needs the identity's ${o.needs === "mailbox" ? "mailbox" : o.needs === "signal" ? "verified Signal account" : "phone number"} (403 \`identity_not_ready\` until then).`);
  if (o.limit) lines.push(`Rate limit group \`${o.limit}\` (per account and plan; 429 \`rate_limit_exceeded\` with retry-after).`);
  if (o.usage) lines.push(`Recorded as usage event \`${o.usage}\`.`);
  return lines.join(" ");
}

function responses(o: Operation): Json {
  const out: Json = {
    [String(o.status)]: { description: "Success.", content: { "application/json": { schema: jsonSchema(o.response, "output") } } },
  };
  if (o.access !== "none") {
    out["401"] = errorResponse("No credentials, or an unknown, expired or revoked key or token.");
    out["403"] = errorResponse("The token lacks the scope, the plan lacks the feature, or the identity is not ready.");
  }
  if (o.body || o.query || o.path.includes("{id}")) out["400"] = errorResponse("The request failed validation.");
  if (o.limit) out["429"] = errorResponse("Rate limited: retry after the `retry-after` seconds.");
  if (o.needs) out["502"] = errorResponse("The provider (Google, signal-cli) refused or failed.");
  return out;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: Json;
  servers: Json[];
  tags: Json[];
  paths: Record<string, Record<string, Json>>;
  components: Json;
}

/** The document; `serverUrl` is the deployment's site URL (absent: a relative server). */
export function openApiDocument(serverUrl?: string): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const o of OPERATIONS) {
    const item: Json = {
      operationId: o.id,
      summary: o.summary,
      description: describeOperation(o),
      tags: [o.tag],
      security: security(o),
      parameters: parameters(o),
      responses: responses(o),
    };
    if (o.body) item.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(o.body, "input") } } };
    paths[o.path] ??= {};
    paths[o.path][o.method.toLowerCase()] = item;
  }
  const tags = [...new Set(OPERATIONS.map((o) => o.tag))].map((name) => ({ name }));
  return {
    openapi: "3.1.0",
    info: {
      title: "Poindexter Cloud API",
      version: "1.0.0",
      description:
        "The API a Dex instance calls: its identity (email, phone, Signal), mail, Signal messages, calendar, incoming SMS, usage and keys, and the OpenAI-compatible AI proxy. Authenticate with `Authorization: Bearer` and either an API key (`pk_live_...`, every scope) or an OAuth access token (`pdx_at_...`, the grant's scopes). Errors use OpenAI's JSON shape.",
    },
    servers: [{ url: serverUrl ?? "/" }],
    tags,
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, "output") },
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key, pk_live_... or pk_test_... (every scope)." },
        oauth: {
          type: "oauth2",
          description: "Dex connect: an access token from /oauth/token (authorization code with PKCE, or the device flow).",
          flows: {
            authorizationCode: {
              authorizationUrl: "/connect",
              tokenUrl: "/oauth/token",
              refreshUrl: "/oauth/token",
              scopes: Object.fromEntries(SCOPES.map((s) => [s, SCOPE_TEXT[s]])),
            },
          },
        },
      },
    },
  };
}

const SCOPE_TEXT: Record<(typeof SCOPES)[number], string> = {
  identity: "Read the identity (address, number, Signal status) and incoming SMS.",
  email: "Send, read and delete mail as the identity's mailbox.",
  signal: "Send and read Signal messages, read contacts.",
  calendar: "Read and change the mailbox user's calendar.",
  ai: "Call the AI proxy.",
  usage: "Read usage and remaining quota.",
};

/** Each mounted route as "METHOD /path" (path parameters as `{id}`), for the route comparison. */
export function documentedRoutes(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)).sort();
}

// ---- Markdown ----

function schemaText(schema: unknown): string {
  return ["```json", JSON.stringify(schema, null, 2), "```"].join("\n");
}

/** docs/dex-api.md: the same document, for people. */
export function renderMarkdown(doc: OpenApiDocument): string {
  const out: string[] = [
    "# Dex API reference",
    "",
    "<!-- Generated from the OpenAPI document (convex/model/dexApi/openapi.ts) by `npx tsx scripts/dex-api-docs.ts`; do not edit by hand. A test fails when this file is out of date. -->",
    "",
    String(doc.info.description),
    "",
    "The machine-readable document is served at `GET /v1/openapi.json` (OpenAPI 3.1).",
    "",
    "## Authentication and scopes",
    "",
    "| scope | grants |",
    "| --- | --- |",
    ...SCOPES.map((s) => `| \`${s}\` | ${SCOPE_TEXT[s]} |`),
    "",
    "Key and billing endpoints and the AI proxy take API keys only. A missing, unknown, expired or revoked credential is 401 (`invalid_api_key` for keys, `invalid_token` for access tokens); a token without the scope is 403 `insufficient_scope`, a plan without the feature 403 `feature_not_in_plan`, an identity not ready for the operation 403 `identity_not_ready`.",
    "",
    "## Rate limits (per account, per minute; token buckets)",
    "",
    `| plan | ${Object.keys(DEX_API_LIMITS.basic).join(" | ")} |`,
    `| --- | ${Object.keys(DEX_API_LIMITS.basic).map(() => "---").join(" | ")} |`,
    ...Object.entries(DEX_API_LIMITS).map(([plan, groups]) => `| ${plan} | ${Object.values(groups).map((g) => `${g.rate}/min (burst ${g.capacity})`).join(" | ")} |`),
    "",
    "## Endpoints",
  ];
  for (const tag of doc.tags.map((t) => String(t.name))) {
    out.push("", `### ${tag}`);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, raw] of Object.entries(item)) {
        const o = raw as { tags: string[]; description: string; parameters: { name: string; in: string; required: boolean; description?: string }[]; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }> };
        if (!o.tags.includes(tag)) continue;
        out.push("", `#### \`${method.toUpperCase()} ${path}\``, "", o.description);
        if (o.parameters.length > 0) {
          out.push("", "| parameter | in | required | description |", "| --- | --- | --- | --- |");
          for (const p of o.parameters) out.push(`| \`${p.name}\` | ${p.in} | ${p.required ? "yes" : "no"} | ${p.description ?? ""} |`);
        }
        if (o.requestBody) out.push("", "Request body:", "", schemaText(o.requestBody.content["application/json"].schema));
        const statuses = Object.keys(o.responses);
        const success = statuses.find((st) => st.startsWith("2"));
        if (success) out.push("", `Response ${success}:`, "", schemaText(o.responses[success].content?.["application/json"].schema));
        const errors = statuses.filter((st) => !st.startsWith("2"));
        if (errors.length > 0) out.push("", `Errors: ${errors.map((st) => `${st} (${o.responses[st].description})`).join("; ")}`);
      }
    }
  }
  out.push("");
  return out.join("\n");
}
