// A separate file so http.ts is evaluated with DEV_AUTH unset (vitest isolates modules per file).
import { beforeAll, expect, test } from "vitest";
import { newTest } from "../test.setup";

beforeAll(() => {
  delete process.env.DEV_AUTH;
  delete process.env.DEV_AUTH_PRIVATE_JWK;
});

test("without DEV_AUTH the dev token and JWKS endpoints do not exist", async () => {
  const t = newTest();
  const token = await t.fetch("/dev-auth/token", {
    method: "POST",
    body: JSON.stringify({ email: "ada@example.com", role: "admin" }),
  });
  expect(token.status).toBe(404);
  expect((await t.fetch("/.well-known/jwks.json")).status).toBe(404);
  expect((await t.fetch("/healthz")).status).toBe(200);
});
