import { createContext, useContext } from "react";
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";

export type Viewer = NonNullable<FunctionReturnType<typeof api.users.viewer.get>>;

export const ViewerContext = createContext<Viewer | null>(null);

/** The signed-in account, kept live by the `users.viewer.get` subscription. */
export function useViewer(): Viewer {
  const viewer = useContext(ViewerContext);
  if (viewer === null) throw new Error("useViewer must be used below ViewerGate.");
  return viewer;
}

export function isStaff(viewer: Viewer): boolean {
  return viewer.role === "support" || viewer.role === "admin";
}
