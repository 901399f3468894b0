import { useState, type FormEvent } from 'react';
import { api, can } from '../api/client';
import type { CreatedPersonalToken, PersonalToken, Role } from '../api/types';
import { Field } from '../components/field';
import { ConfirmButton, SecretOnce } from '../components/secret-once';
import { Empty, ErrorNotice, Loading } from '../components/states';
import { formatDateTime, formatRelative } from '../format';
import { useNow } from '../use-now';
import { useAction } from '../use-action';
import { useResource } from '../use-resource';
import { useSession } from '../session';

/** Roles a token may be given: the person's own, or one it includes (the server checks the same). */
const WITHIN: Record<Role, readonly Role[]> = {
  admin: ['admin', 'policy-author', 'approver', 'viewer'],
  'policy-author': ['policy-author', 'viewer'],
  approver: ['approver', 'viewer'],
  viewer: ['viewer'],
};

/**
 * Personal API tokens (`apt_…`) for scripts and the CLI: everyone manages their own, an admin may
 * see and revoke everyone's. The token is shown once; creation and revocation are audited.
 */
export function TokensView() {
  const { user } = useSession();
  const admin = can.manage(user.role);
  const [everyone, setEveryone] = useState(false);
  const tokens = useResource(async () => (await api.get<{ tokens: PersonalToken[] }>('/v1/tokens', everyone ? { all: 'true' } : {})).tokens, `tokens-${everyone}`);
  const now = useNow(30_000);
  const [shown, setShown] = useState<CreatedPersonalToken | undefined>();
  const revoking = useAction();

  const revoke = (id: string): void => {
    // Whether it worked or not, the list shows the tokens as they now are.
    void revoking
      .run(async () => {
        await api.delete<PersonalToken>(`/v1/tokens/${encodeURIComponent(id)}`);
      })
      .then(() => tokens.reload());
  };

  return (
    <section aria-labelledby="tokens-title">
      <div className="page-head">
        <h1 id="tokens-title">API tokens</h1>
      </div>
      <p className="muted">
        A token acts as you (<span className="mono">Authorization: Bearer apt_…</span>) with your role or a narrower one, for scripts and the CLI. Revoked, it stops working on the next request.
      </p>
      {shown ? <SecretOnce label={`Your token “${shown.name}”:`} value={shown.token} onDone={() => setShown(undefined)} /> : null}
      <CreateToken role={user.role} onCreated={(created) => (setShown(created), tokens.reload())} />
      {admin ? (
        <label className="inline">
          <input type="checkbox" checked={everyone} onChange={(e) => setEveryone(e.target.checked)} /> Everyone's tokens
        </label>
      ) : null}
      {tokens.error ? <ErrorNotice error={tokens.error} /> : null}
      {revoking.error ? <ErrorNotice error={revoking.error} /> : null}
      {tokens.loading ? <Loading what="Loading tokens" /> : null}
      {tokens.data && tokens.data.length === 0 ? <Empty>No tokens.</Empty> : null}
      {tokens.data && tokens.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="tokens-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                {everyone ? <th scope="col">Person</th> : null}
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((token) => (
                <tr key={token.id} data-token={token.id} data-state={token.revokedAt ? 'revoked' : 'active'}>
                  <th scope="row">{token.name}</th>
                  {everyone ? <td>{token.username}</td> : null}
                  <td>{token.role ?? <span className="muted">the person's</span>}</td>
                  <td className="small" title={formatDateTime(token.createdAt)}>
                    {formatRelative(token.createdAt, now)}
                  </td>
                  <td className="small">{token.expiresAt ? formatDateTime(token.expiresAt) : <span className="muted">never</span>}</td>
                  <td className="small">{token.lastUsedAt ? formatRelative(token.lastUsedAt, now) : <span className="muted">never</span>}</td>
                  <td>
                    {token.revokedAt ? (
                      <span title={formatDateTime(token.revokedAt)}>
                        revoked by {token.revokedBy} {formatRelative(token.revokedAt, now)}
                      </span>
                    ) : (
                      <ConfirmButton label="Revoke" question={`Revoke “${token.name}”?`} confirmLabel="Revoke now" busy={revoking.busy} onConfirm={() => revoke(token.id)} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function CreateToken({ role, onCreated }: { role: Role; onCreated: (created: CreatedPersonalToken) => void }) {
  const [name, setName] = useState('');
  const [tokenRole, setTokenRole] = useState<Role>(role);
  const [days, setDays] = useState('90');
  const { busy, error, run } = useAction();

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    void run(async () => {
      const created = await api.post<CreatedPersonalToken>('/v1/tokens', { name: name.trim(), ...(tokenRole === role ? {} : { role: tokenRole }), ...(days ? { expiresInDays: Number(days) } : {}) });
      setName('');
      onCreated(created);
    });
  };

  return (
    <form className="card" aria-label="Create a token" data-testid="create-token" onSubmit={submit}>
      <h2>Create a token</h2>
      <div className="toolbar">
        <Field label="What it is for">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} required maxLength={128} placeholder="airlock CLI on laptop" />}</Field>
        <Field label="Role">
          {(id) => (
            <select id={id} value={tokenRole} onChange={(e) => setTokenRole(e.target.value as Role)}>
              {WITHIN[role].map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Expires in">
          {(id) => (
            <select id={id} value={days} onChange={(e) => setDays(e.target.value)}>
              <option value="7">7 days</option>
              <option value="30">30 days</option>
              <option value="90">90 days</option>
              <option value="365">a year</option>
              <option value="">never</option>
            </select>
          )}
        </Field>
      </div>
      <div className="button-row">
        <button type="submit" className="primary" disabled={busy || name.trim() === ''}>
          {busy ? 'Creating…' : 'Create'}
        </button>
      </div>
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  );
}
