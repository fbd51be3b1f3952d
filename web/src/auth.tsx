/**
 * Sign-in state. The token is kept in memory and in sessionStorage (so a reload keeps the session, closing
 * the tab ends it); never in a URL or localStorage. The role comes from the server (/api/v1/whoami).
 * A page load that is the identity provider's redirect back finishes the OIDC sign-in (oidc.ts).
 */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, setBearer, unwrap } from './api/client';
import { completeOidcSignIn, isOidcRedirect } from './oidc';

export interface Identity {
  subject: string;
  role: 'pki-admin' | 'pki-viewer';
  via: 'oidc' | 'admin-token';
}

interface AuthState {
  identity?: Identity;
  /** Whether the signed-in role may change things (pki-admin). */
  canWrite: boolean;
  restoring: boolean;
  /** Why the last OIDC sign-in failed, shown on the sign-in screen. */
  oidcError?: unknown;
  signIn(token: string): Promise<void>;
  signOut(): void;
}

const STORAGE_KEY = 'lamassu.token';
const AuthContext = createContext<AuthState | undefined>(undefined);

async function whoami(token: string): Promise<Identity> {
  setBearer(token);
  try {
    return await unwrap(api.GET('/api/v1/whoami'));
  } catch (err) {
    setBearer(undefined);
    throw err;
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [identity, setIdentity] = useState<Identity>();
  const [restoring, setRestoring] = useState(() => isOidcRedirect() || sessionStorage.getItem(STORAGE_KEY) !== null);
  const [oidcError, setOidcError] = useState<unknown>();

  useEffect(() => {
    if (isOidcRedirect()) {
      // StrictMode runs effects twice in development; the pending sign-in is consumed by the first run.
      completeOidcSignIn()
        .then(async (token) => {
          const who = await whoami(token);
          sessionStorage.setItem(STORAGE_KEY, token);
          setIdentity(who);
        })
        .catch(setOidcError)
        .finally(() => setRestoring(false));
      return;
    }
    const saved = sessionStorage.getItem(STORAGE_KEY);
    if (!saved) return;
    whoami(saved)
      .then(setIdentity, () => sessionStorage.removeItem(STORAGE_KEY))
      .finally(() => setRestoring(false));
  }, []);

  const signIn = useCallback(async (token: string) => {
    const who = await whoami(token.trim());
    sessionStorage.setItem(STORAGE_KEY, token.trim());
    setIdentity(who);
  }, []);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setBearer(undefined);
    setIdentity(undefined);
  }, []);

  return (
    <AuthContext.Provider value={{ identity, canWrite: identity?.role === 'pki-admin', restoring, oidcError, signIn, signOut }}>
      {children}
    </AuthContext.Provider>
  );
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}
