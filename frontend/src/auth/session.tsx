// Sign-in with an API key: the key lives in sessionStorage (gone when the tab closes) and the
// gateway's /me says what it may see, which decides the nav bar.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, setApiKey, unwrap, type Schemas } from "../api/client";

const STORAGE_KEY = "aura.apiKey";

export type Me = Schemas["Me"];

interface Session {
  me: Me | null;
  restoring: boolean;
  signIn(key: string): Promise<void>;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

async function whoAmI(key: string): Promise<Me> {
  setApiKey(key);
  try {
    return unwrap(await api.GET("/api/v1/me"));
  } catch (error) {
    setApiKey(null);
    throw error;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [restoring, setRestoring] = useState(() => sessionStorage.getItem(STORAGE_KEY) !== null);

  useEffect(() => {
    const saved = sessionStorage.getItem(STORAGE_KEY);
    if (!saved) return;
    whoAmI(saved)
      .then(setMe)
      .catch(() => sessionStorage.removeItem(STORAGE_KEY))
      .finally(() => setRestoring(false));
  }, []);

  const signIn = useCallback(async (key: string) => {
    const who = await whoAmI(key.trim());
    sessionStorage.setItem(STORAGE_KEY, key.trim());
    setMe(who);
  }, []);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setApiKey(null);
    setMe(null);
  }, []);

  const value = useMemo(() => ({ me, restoring, signIn, signOut }), [me, restoring, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** Operators and admins read every hospital; a hospital key reads its own. */
export function readsAll(me: Me | null): boolean {
  return me?.role === "operator" || me?.role === "admin";
}
