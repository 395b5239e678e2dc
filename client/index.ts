// The Poindexter Cloud SDK for Dex instances: connect (loopback PKCE or device flow), an
// encrypted token store, and a typed client of the Dex API. See client/README.md.
export * from "./errors";
export * from "./tokenStore";
export * from "./oauth";
export * from "./api";
