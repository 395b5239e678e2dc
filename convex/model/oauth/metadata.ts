// Authorization server metadata (RFC 8414 2). The issuer is the site URL the document is served
// from, because a client compares the two (RFC 8414 3.3) and then the `iss` of every
// authorization response against it (RFC 9207). Fields whose defaults bite are listed
// explicitly: without grant_types_supported a client assumes implicit, without
// token_endpoint_auth_methods_supported it assumes client_secret_basic. Pure.
import { SCOPES } from "./clients";

export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export function issuerOf(siteUrl: string): string {
  return siteUrl.replace(/\/+$/, "");
}

export function authorizationServerMetadata(issuer: string, appUrl: string) {
  const app = appUrl.replace(/\/+$/, "");
  return {
    issuer,
    authorization_endpoint: `${app}/connect`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
    scopes_supported: [...SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token", DEVICE_CODE_GRANT],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
    authorization_response_iss_parameter_supported: true,
  };
}

/** RFC 6749 5.2 and RFC 8628 3.5 error codes of the token endpoint. */
export type TokenErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "authorization_pending"
  | "slow_down"
  | "access_denied"
  | "expired_token";

/** 401 for a client we cannot identify (RFC 6749 5.2), 400 for everything else. */
export function tokenErrorStatus(code: TokenErrorCode): 400 | 401 {
  return code === "invalid_client" ? 401 : 400;
}
