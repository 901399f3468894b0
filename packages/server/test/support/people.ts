import { expect } from 'vitest';
import { readPolicySources } from '@airlock/core';
import { DEFAULT_CONFIG } from '../../src/index.js';
import { agent, signIn, type Caller, type Person } from './http.js';

export const PASSWORD = 'a long enough password';

/** Creates people with roles and approver groups (as admin) and signs each of them in. */
export async function people(url: string, admin: Person, specs: Record<string, { groups: string[]; role?: string }>): Promise<Record<string, Person>> {
  const signedIn: Record<string, Person> = {};
  for (const [username, spec] of Object.entries(specs)) {
    const created = await admin.post('/v1/users', { username, password: PASSWORD, role: spec.role ?? 'approver', groups: spec.groups });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    signedIn[username] = await signIn(url, username, PASSWORD);
  }
  return signedIn;
}

/** Activates the example policies plus extra policy files, and returns a key for a new agent of `role`. */
export async function activateWith(url: string, admin: Person, extra: { file: string; text: string }[], newAgent?: { id: string; role: string }): Promise<Caller | undefined> {
  const files = [...readPolicySources(DEFAULT_CONFIG.seedPolicies), ...extra];
  const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'examples', files });
  expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
  expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
  if (!newAgent) return undefined;
  expect((await admin.post('/v1/agents', { id: newAgent.id, role: newAgent.role })).status).toBe(201);
  const issued = await admin.post<{ key: string }>(`/v1/agents/${newAgent.id}/keys`);
  expect(issued.status).toBe(201);
  return agent(url, issued.body.key);
}

/** Retries `check` until it stops throwing: for outcomes that land asynchronously (deliveries). Bounded by the test timeout. */
export async function eventually<T>(check: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await check();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
