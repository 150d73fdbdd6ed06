// The signed-in operator for the pages under /admin (the guard in App provides it).
import { createContext, useContext } from 'react';

import type { SessionUser } from '../api/types';

export const SessionContext = createContext<SessionUser | null>(null);

export function useUser(): SessionUser {
  const user = useContext(SessionContext);
  if (!user) throw new Error('useUser outside a signed-in page');
  return user;
}
