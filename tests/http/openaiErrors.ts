// What the proxy's refusal looked like to the real `openai` SDK, for tests that expect one.
import OpenAI from "openai";

/** The status and error code the SDK threw, or "no error" when the call succeeded; other throws propagate. */
export async function refusalOf(work: Promise<unknown>): Promise<{ status: number; code: unknown } | "no error"> {
  try {
    await work;
    return "no error";
  } catch (e) {
    if (e instanceof OpenAI.APIError) return { status: e.status ?? 0, code: e.code };
    throw e;
  }
}
