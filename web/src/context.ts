import { createContext, useContext } from "react";
import type { Api, Me, Membership } from "./api";

export interface Session {
  api: Api;
  me: Me;
  current: Membership; // the workspace the app acts in, with the user's role there
  canEdit: boolean;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a logged-in app");
  return s;
}
