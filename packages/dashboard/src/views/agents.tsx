import { useState, type FormEvent } from 'react';
import { api, can } from '../api/client';
import type { AgentListed, ApiKey, IssuedApiKey, RotatedApiKey } from '../api/types';
import { Field } from '../components/field';
import { ConfirmButton, SecretOnce } from '../components/secret-once';
import { Empty, ErrorNotice, Loading } from '../components/states';
import { formatDateTime, formatRelative } from '../format';
import { Link } from '../router';
import { useNow } from '../use-now';
import { useAction } from '../use-action';
import { useResource } from '../use-resource';
import { useSession } from '../session';

/** A secret just issued, with what it is for. */
interface Shown {
  label: string;
  value: string;
}

/**
 * Agents and their API keys (admin: register, issue, rotate, revoke; everyone else: read only).
 * A key's secret is shown once, when it is issued or rotated; every action is audited by the server.
 */
export function AgentsView() {
  const { user } = useSession();
  const admin = can.manage(user.role);
  const agents = useResource(async () => (await api.get<{ agents: AgentListed[] }>('/v1/agents')).agents, 'agents');
  const now = useNow(30_000);
  const [selected, setSelected] = useState<string | undefined>();
  const [shown, setShown] = useState<Shown | undefined>();
  const list = agents.data ?? [];

  return (
    <section aria-labelledby="agents-title">
      <div className="page-head">
        <h1 id="agents-title">Agents</h1>
      </div>
      <p className="muted">
        Every agent has a role and an environment, fixed in each of its keys: a request cannot change them. Last seen is its newest decision.
        {admin ? '' : ' Only an admin registers agents and issues, rotates or revokes keys.'}
      </p>
      {shown ? <SecretOnce label={shown.label} value={shown.value} onDone={() => setShown(undefined)} /> : null}
      {admin ? (
        <CreateAgent
          onCreated={(agent, key) => {
            agents.reload();
            setSelected(agent);
            if (key) setShown({ label: `The API key of ${agent}:`, value: key.key });
          }}
        />
      ) : null}
      {agents.error ? <ErrorNotice error={agents.error} action={<button onClick={agents.reload}>Try again</button>} /> : null}
      {agents.loading ? <Loading what="Loading the agents" /> : null}
      {!agents.loading && list.length === 0 && !agents.error ? <Empty>No agents are registered.</Empty> : null}
      {list.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="agents-table">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Role</th>
                <th scope="col">Environment</th>
                <th scope="col" className="num">Active keys</th>
                <th scope="col">Last seen</th>
                <th scope="col">Registered</th>
                <th scope="col">
                  <span className="visually-hidden">Keys</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((agent) => (
                <tr key={agent.id} data-agent={agent.id}>
                  <th scope="row">
                    <Link to={`/fleet/${encodeURIComponent(agent.id)}`}>{agent.id}</Link>
                  </th>
                  <td>{agent.role}</td>
                  <td>{agent.environment}</td>
                  <td className="num">{agent.activeKeys}</td>
                  <td title={agent.lastSeen ? formatDateTime(agent.lastSeen) : undefined}>{agent.lastSeen ? formatRelative(agent.lastSeen, now) : <span className="muted">never</span>}</td>
                  <td className="small" title={formatDateTime(agent.createdAt)}>
                    {formatRelative(agent.createdAt, now)} by {agent.createdBy}
                  </td>
                  <td>
                    <button type="button" aria-expanded={selected === agent.id} onClick={() => setSelected(selected === agent.id ? undefined : agent.id)}>
                      Keys
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {selected ? <AgentKeys agent={selected} admin={admin} onSecret={setShown} onChanged={agents.reload} /> : null}
    </section>
  );
}

function CreateAgent({ onCreated }: { onCreated: (agent: string, key: IssuedApiKey | undefined) => void }) {
  const [id, setId] = useState('');
  const [role, setRole] = useState('');
  const [environment, setEnvironment] = useState('production');
  const { busy, error, run } = useAction();

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    void run(async () => {
      const agent = await api.post<{ id: string }>('/v1/agents', { id: id.trim(), role: role.trim(), environment: environment.trim() });
      const key = await api.post<IssuedApiKey>(`/v1/agents/${encodeURIComponent(agent.id)}/keys`);
      setId('');
      onCreated(agent.id, key);
    });
  };

  return (
    <form className="card" aria-label="Register an agent" data-testid="create-agent" onSubmit={submit}>
      <h2>Register an agent</h2>
      <div className="toolbar">
        <Field label="Agent id">{(fieldId) => <input id={fieldId} value={id} onChange={(e) => setId(e.target.value)} required maxLength={128} placeholder="support-bot-2" />}</Field>
        <Field label="Role">{(fieldId) => <input id={fieldId} value={role} onChange={(e) => setRole(e.target.value)} required maxLength={128} placeholder="support" />}</Field>
        <Field label="Environment">{(fieldId) => <input id={fieldId} value={environment} onChange={(e) => setEnvironment(e.target.value)} required maxLength={128} />}</Field>
      </div>
      <div className="button-row">
        <button type="submit" className="primary" disabled={busy || id.trim() === '' || role.trim() === ''}>
          {busy ? 'Registering…' : 'Register and issue a key'}
        </button>
      </div>
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  );
}

function AgentKeys({ agent, admin, onSecret, onChanged }: { agent: string; admin: boolean; onSecret: (shown: Shown) => void; onChanged: () => void }) {
  const keys = useResource(async () => (await api.get<{ keys: ApiKey[] }>(`/v1/agents/${encodeURIComponent(agent)}/keys`)).keys, `keys-${agent}`);
  const now = useNow(30_000);
  const { busy, error, run } = useAction();

  // Whether it worked or not, the list shows the keys as they now are.
  const act = (work: () => Promise<void>): void => {
    void run(work).then(() => {
      keys.reload();
      onChanged();
    });
  };
  const issue = (): void =>
    act(async () => {
      const key = await api.post<IssuedApiKey>(`/v1/agents/${encodeURIComponent(agent)}/keys`);
      onSecret({ label: `A new API key of ${agent} (${key.id}):`, value: key.key });
    });
  const rotate = (id: string): void =>
    act(async () => {
      const key = await api.post<RotatedApiKey>(`/v1/keys/${encodeURIComponent(id)}/rotate`);
      onSecret({ label: `The API key of ${agent} that replaces ${key.replaces} (now refused):`, value: key.key });
    });
  const revoke = (id: string): void =>
    act(async () => {
      await api.delete<ApiKey>(`/v1/keys/${encodeURIComponent(id)}`);
    });

  return (
    <div className="card" data-testid="agent-keys" aria-labelledby="agent-keys-title">
      <h2 id="agent-keys-title">Keys of {agent}</h2>
      <p className="muted">Ids only: the server keeps a hash of each secret, never the secret. Rotating revokes the key and issues its successor in one step.</p>
      {keys.error ? <ErrorNotice error={keys.error} /> : null}
      {keys.loading ? <Loading what="Loading the keys" /> : null}
      {keys.data && keys.data.length === 0 ? <Empty>No keys.</Empty> : null}
      {keys.data && keys.data.length > 0 ? (
        <table className="compact">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Issued</th>
              <th scope="col">State</th>
              {admin ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {keys.data.map((key) => (
              <tr key={key.id} data-key={key.id} data-state={key.revokedAt ? 'revoked' : 'active'}>
                <td className="mono">{key.id}</td>
                <td className="small" title={formatDateTime(key.createdAt)}>
                  {formatRelative(key.createdAt, now)} by {key.createdBy}
                </td>
                <td>{key.revokedAt ? <span title={formatDateTime(key.revokedAt)}>revoked {formatRelative(key.revokedAt, now)}</span> : 'active'}</td>
                {admin ? (
                  <td>
                    {key.revokedAt ? null : (
                      <span className="toolbar">
                        <ConfirmButton label="Rotate" question={`Rotate ${key.id}? It is refused from the next request.`} confirmLabel="Rotate now" busy={busy} onConfirm={() => rotate(key.id)} />
                        <ConfirmButton label="Revoke" question={`Revoke ${key.id}? ${agent} cannot use it any more.`} confirmLabel="Revoke now" busy={busy} onConfirm={() => revoke(key.id)} />
                      </span>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {admin ? (
        <div className="button-row">
          <button type="button" disabled={busy} onClick={issue}>
            Issue another key
          </button>
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
    </div>
  );
}
