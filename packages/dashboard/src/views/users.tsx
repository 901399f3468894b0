import { useState, type FormEvent } from 'react';
import { api, can } from '../api/client';
import type { ManagedUser, Role } from '../api/types';
import { Field } from '../components/field';
import { ConfirmButton } from '../components/secret-once';
import { Empty, ErrorNotice, Loading, OutcomeNotice, type Outcome } from '../components/states';
import { formatDateTime, formatRelative } from '../format';
import { useNow } from '../use-now';
import { useAction } from '../use-action';
import { useResource } from '../use-resource';
import { useSession } from '../session';

const ROLES: readonly Role[] = ['viewer', 'approver', 'policy-author', 'admin'];

/** `a, b c` → ['a', 'b', 'c']: approver groups as typed. */
function parseGroups(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((g) => g.trim())
    .filter((g) => g !== '');
}

/**
 * People (admin only; the server refuses everyone else): their roles, approver groups and whether
 * they may sign in. Every change is audited (`user.created`, `user.role_changed`,
 * `user.groups_changed`, `user.disabled`, `user.enabled`).
 */
export function UsersView() {
  const { user } = useSession();
  const admin = can.manage(user.role);
  const users = useResource(async () => (await api.get<{ users: ManagedUser[] }>('/v1/users')).users, 'users');
  const [outcome, setOutcome] = useState<Outcome>();

  return (
    <section aria-labelledby="users-title">
      <div className="page-head">
        <h1 id="users-title">People</h1>
      </div>
      <p className="muted">
        A role says what a person may do (viewer reads; approver also acts on approvals; policy-author also edits policies; admin everything). Approver groups say which approval tiers they may act
        on. Changes hold from the person's next request.
      </p>
      {admin ? <CreateUser onCreated={(name) => (users.reload(), setOutcome({ ok: `Created ${name}.` }))} /> : null}
      <OutcomeNotice outcome={outcome} />
      {users.error ? <ErrorNotice error={users.error} /> : null}
      {users.loading ? <Loading what="Loading people" /> : null}
      {users.data && users.data.length === 0 ? <Empty>No people.</Empty> : null}
      {users.data && users.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="users-table">
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Role</th>
                <th scope="col">Approver groups</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((person) => (
                <UserRow key={person.id} person={person} self={person.username === user.username} editable={admin} onChanged={(ok) => (users.reload(), setOutcome(ok))} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function UserRow({ person, self, editable, onChanged }: { person: ManagedUser; self: boolean; editable: boolean; onChanged: (outcome: Outcome) => void }) {
  const now = useNow(60_000);
  const [role, setRole] = useState<Role>(person.role);
  const [groups, setGroups] = useState(person.groups.join(', '));
  const { busy, run } = useAction();
  const path = `/v1/users/${encodeURIComponent(person.username)}`;

  // The table shows what happened, above it: the row only says it is busy.
  const act = (request: () => Promise<unknown>, ok: string): void => {
    void run(async () => {
      await request();
    }).then((error) => onChanged(error ? { error } : { ok }));
  };
  const groupsChanged = parseGroups(groups).join(',') !== person.groups.join(',');

  return (
    <tr data-user={person.username} data-state={person.disabledAt ? 'disabled' : 'active'}>
      <th scope="row">
        {person.username}
        {self ? <span className="muted"> (you)</span> : null}
      </th>
      <td>
        {editable ? (
          <span className="toolbar">
            <select aria-label={`Role of ${person.username}`} value={role} onChange={(e) => setRole(e.target.value as Role)} disabled={busy}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
            {role !== person.role ? (
              <button type="button" className="primary" disabled={busy} onClick={() => act(() => api.post(`${path}/role`, { role }), `${person.username} is now ${role}.`)}>
                Save role
              </button>
            ) : null}
          </span>
        ) : (
          person.role
        )}
      </td>
      <td>
        {editable ? (
          <span className="toolbar">
            <input aria-label={`Approver groups of ${person.username}`} value={groups} onChange={(e) => setGroups(e.target.value)} disabled={busy} placeholder="none" />
            {groupsChanged ? (
              <button type="button" className="primary" disabled={busy} onClick={() => act(() => api.post(`${path}/groups`, { groups: parseGroups(groups) }), `Saved the groups of ${person.username}.`)}>
                Save groups
              </button>
            ) : null}
          </span>
        ) : person.groups.length > 0 ? (
          person.groups.join(', ')
        ) : (
          <span className="muted">none</span>
        )}
      </td>
      <td>
        {person.disabledAt ? <span title={formatDateTime(person.disabledAt)}>disabled {formatRelative(person.disabledAt, now)}</span> : 'active'}{' '}
        {editable && !self ? (
          person.disabledAt ? (
            <button type="button" disabled={busy} onClick={() => act(() => api.post(`${path}/enable`), `${person.username} may sign in again.`)}>
              Enable
            </button>
          ) : (
            <ConfirmButton
              label="Disable"
              question={`Disable ${person.username}? Their sessions end and their tokens stop working.`}
              confirmLabel="Disable now"
              busy={busy}
              onConfirm={() => act(() => api.post(`${path}/disable`), `${person.username} is disabled.`)}
            />
          )
        ) : null}
      </td>
      <td className="small" title={formatDateTime(person.createdAt)}>
        {formatRelative(person.createdAt, now)} by {person.createdBy}
      </td>
    </tr>
  );
}

function CreateUser({ onCreated }: { onCreated: (username: string) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [groups, setGroups] = useState('');
  const { busy, error, run } = useAction();

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    void run(async () => {
      const created = await api.post<ManagedUser>('/v1/users', { username: username.trim(), password, role, groups: parseGroups(groups) });
      setUsername('');
      setPassword('');
      setGroups('');
      onCreated(created.username);
    });
  };

  return (
    <form className="card" aria-label="Add a person" data-testid="create-user" onSubmit={submit}>
      <h2>Add a person</h2>
      <div className="toolbar">
        <Field label="Username">{(id) => <input id={id} value={username} onChange={(e) => setUsername(e.target.value)} required maxLength={128} autoComplete="off" />}</Field>
        <Field label="Password (12 characters or more)">
          {(id) => <input id={id} type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={12} maxLength={1024} autoComplete="new-password" />}
        </Field>
        <Field label="Role">
          {(id) => (
            <select id={id} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Approver groups (comma-separated)">{(id) => <input id={id} value={groups} onChange={(e) => setGroups(e.target.value)} placeholder="support-leads" />}</Field>
      </div>
      <div className="button-row">
        <button type="submit" className="primary" disabled={busy || username.trim() === '' || password.length < 12}>
          {busy ? 'Adding…' : 'Add'}
        </button>
      </div>
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  );
}
