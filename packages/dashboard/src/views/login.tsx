import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Session } from '../api/types';
import { ErrorNotice } from '../components/states';

export function LoginView({ onSignedIn, notice }: { onSignedIn(session: Session): void; notice?: ApiError | undefined }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(notice);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.post<Session>('/v1/auth/login', { username, password }));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client_error', String(caught)));
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="card login-card" onSubmit={(event) => void submit(event)} aria-labelledby="login-title">
        <h1 id="login-title">Airlock</h1>
        <p className="muted">Sign in to watch and steer your agents.</p>
        {error ? <ErrorNotice error={error} /> : null}
        <label>
          Username
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
