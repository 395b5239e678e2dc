// Typed errors of the Dex SDK. Every failure a caller can act on is one of these, with a stable
// `code`: the Dex API's OpenAI-style `error.code`, an OAuth error code, or the SDK's own.

/** An error answer of the Dex API: `{ "error": { message, type, param, code } }` (OpenAI's shape). */
export class DexApiError extends Error {
  override readonly name = "DexApiError";
  constructor(
    readonly status: number,
    /** OpenAI-style code, e.g. `invalid_api_key`, `insufficient_scope`, `rate_limit_exceeded`, `identity_not_provisioned`. */
    readonly code: string,
    readonly type: string,
    message: string,
    readonly param: string | null = null,
    /** Seconds from a Retry-After header, when the server sent one. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** The authorization server refused (RFC 6749 5.2 / RFC 8628 3.5 codes, or `rate_limited`). */
export class OAuthError extends Error {
  override readonly name = "OAuthError";
  constructor(
    /** e.g. `invalid_grant`, `access_denied`, `expired_token`, `rate_limited`. */
    readonly code: string,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** No tokens are stored, or the stored refresh token no longer works: run `connect` again. */
export class NotConnectedError extends Error {
  override readonly name = "NotConnectedError";
  readonly code = "not_connected";
}

/** The token file cannot be read: wrong key or passphrase, or a damaged or foreign file. */
export class TokenStoreError extends Error {
  override readonly name = "TokenStoreError";
  constructor(
    readonly code: "wrong_key" | "corrupt" | "key_file",
    message: string,
  ) {
    super(message);
  }
}
