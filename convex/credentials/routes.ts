// Mounts the credentials' HTTP routes (with CORS preflights, so the SPA can call them).
import type { HttpRouter } from "convex/server";
import { mountRoutes } from "../proxy/routes";
import { getToken, postToken } from "./provisioning";
import { postSession } from "./session";

export function mountCredentialRoutes(http: HttpRouter): void {
  mountRoutes(http, {
    exact: [
      ["/api/session", "POST", postSession],
      ["/api/provisioning/token", "POST", postToken],
      ["/api/provisioning/token", "GET", getToken],
    ],
  });
}
