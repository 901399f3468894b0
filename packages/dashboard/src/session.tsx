import { createContext, useContext } from 'react';
import type { User } from './api/types';

export interface SessionValue {
  user: User;
  logout(): void;
}

export const SessionContext = createContext<SessionValue | undefined>(undefined);

export function useSession(): SessionValue {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
