import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Session, SignInMethods } from '../api/types';
import { ErrorNotice } from '../components/states';
import { useAction } from '../use-action';

/** What a refused single sign-on (`/?sso_error=<code>`, set by the server's callback) tells the person. */
const SSO_ERRORS: Record<string, string> = {
  sso_state_invalid: 'That sign-in expired, was already used, or was started in another browser. Sign in again.',
  sso_failed: "The identity provider's answer was refused. Sign in again; if it keeps failing, ask an administrator.",
  sso_user_disabled: 'Your Airlock account is disabled. Ask an administrator to enable it.',
  sso_no_role: 'Your account at the identity provider has no Airlock role. Ask an administrator for access.',
  sso_claim_invalid: 'The identity provider did not say who you are (no usable username). Ask an administrator.',
  sso_username_taken: 'Your username belongs to another Airlock user. Ask an administrator.',
  sso_unavailable: 'The identity provider did not answer. Try again in a moment.',
};

/** The refusal in the address bar, once: read and removed so a reload does not show it again. */
function takeSsoError(): ApiError | undefined {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('sso_error');
  if (code === null) return undefined;
  params.delete('sso_error');
  const rest = params.toString();
  window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}${window.location.hash}`);
  const known = /^[a-z_]{1,40}$/.test(code) ? code : 'sso_failed';
  return new ApiError(401, known, SSO_ERRORS[known] ?? 'Single sign-on failed. Sign in again.');
}

export function LoginView({ onSignedIn, notice }: { onSignedIn(session: Session): void; notice?: ApiError | undefined }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAction({ initialError: () => takeSsoError() ?? notice });
  /** How this server lets people sign in; a server that cannot say offers the password form. */
  const [methods, setMethods] = useState<SignInMethods | undefined>();

  useEffect(() => {
    let live = true;
    api.get<SignInMethods>('/v1/auth/methods').then(
      (answer) => live && setMethods(answer),
      () => live && setMethods({ password: true, sso: null }),
    );
    return () => {
      live = false;
    };
  }, []);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    await run(async () => onSignedIn(await api.post<Session>('/v1/auth/login', { username, password })));
  };

  return (
    <main className="login">
      <form className="card login-card" onSubmit={(event) => void submit(event)} aria-labelledby="login-title" aria-busy={methods === undefined}>
        <h1 id="login-title">Airlock</h1>
        <p className="muted">Sign in to watch and steer your agents.</p>
        {error ? <ErrorNotice error={error} /> : null}
        {methods?.sso ? (
          // A full navigation: the server redirects to the identity provider and back.
          <a className={`button sso${methods.password ? '' : ' primary'}`} href={methods.sso.url}>
            Sign in with {methods.sso.name}
          </a>
        ) : null}
        {methods?.sso && methods.password ? <p className="divider">or with a password</p> : null}
        {methods?.password ? (
          <>
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
          </>
        ) : null}
      </form>
    </main>
  );
}
