import type { components } from '@airlock/sdk/api';
import { CommandFailure, connect, reportFailure, withServer, type Env, type Io, type ServerClient, type ServerLoginOptions } from './server-client.js';

/**
 * `airlock approvals list|show|approve|deny|wait`: the approval inbox from a terminal, as a person
 * (a personal API token or a password sign-in; see server-client.ts).
 */

export interface ApprovalsListOptions extends ServerLoginOptions {
  status?: string;
  all?: boolean;
  agent?: string;
  limit?: string;
  json?: boolean;
}

export interface ApprovalActOptions extends ServerLoginOptions {
  reason?: string;
  edit?: string[];
  json?: boolean;
}

export interface ApprovalWaitOptions extends ServerLoginOptions {
  timeout?: string;
  json?: boolean;
}

type Approval = components['schemas']['Approval'];
type ApprovalStatus = components['schemas']['ApprovalStatus'];

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired', 'redeemed'] as const satisfies readonly ApprovalStatus[];

/** Exit codes of `airlock approvals wait`. */
export const WAIT_EXIT = { approved: 0, denied: 1, expired: 2, timeout: 3, error: 4 } as const;

/** The server answers a long poll after at most this long; the CLI asks again until decided. */
const POLL_SECONDS = 60;

export async function approvalsListCommand(options: ApprovalsListOptions, io: Io, env: Env = process.env): Promise<number> {
  if (options.all && options.status !== undefined) return usage(io, 'give --all or --status, not both');
  const status = options.all ? undefined : (options.status ?? 'pending');
  const limit = options.limit === undefined ? 100 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return usage(io, '--limit takes a number from 1 to 1000');
  if (status !== undefined && !(APPROVAL_STATUSES as readonly string[]).includes(status)) return usage(io, `--status takes one of ${APPROVAL_STATUSES.join(', ')}`);
  const query = { limit, status: status as ApprovalStatus | undefined, agent: options.agent };
  return withServer(options, io, env, async (client) => {
    const { approvals } = await client.call('GET', '/v1/approvals', { query });
    if (options.json) {
      io.stdout.write(`${JSON.stringify(approvals)}\n`);
      return;
    }
    if (approvals.length === 0) {
      io.stdout.write(status === undefined ? 'No approvals.\n' : `No ${status} approvals.\n`);
      return;
    }
    const now = Date.now();
    const header = ['ID', ...(status === 'pending' ? [] : ['STATUS']), 'AGENT', 'TOOL', 'ARGS', 'AGE', 'TIER'];
    const rows = approvals.map((a) => [
      a.id,
      ...(status === 'pending' ? [] : [a.status]),
      a.agent,
      a.tool,
      summarizeArgs(a.args),
      age(now - Date.parse(a.createdAt)),
      `${a.tier} ${a.requiredApprovals - a.approvalsRemaining}/${a.requiredApprovals}`,
    ]);
    io.stdout.write(table([header, ...rows]));
  });
}

export async function approvalsShowCommand(id: string, options: ServerLoginOptions & { json?: boolean }, io: Io, env: Env = process.env): Promise<number> {
  return withServer(options, io, env, async (client) => {
    const approval = await client.call('GET', '/v1/approvals/{id}', { params: { id } });
    io.stdout.write(options.json ? `${JSON.stringify(approval)}\n` : describe(approval));
  });
}

export async function approvalsApproveCommand(id: string, options: ApprovalActOptions, io: Io, env: Env = process.env): Promise<number> {
  if (!options.reason?.trim()) return usage(io, 'say why with --reason (it is recorded with your approval)');
  let edits: Record<string, unknown> | undefined;
  try {
    edits = options.edit && options.edit.length > 0 ? parseEdits(options.edit) : undefined;
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  return withServer(options, io, env, async (client) => {
    let args: Record<string, unknown> | undefined;
    if (edits) {
      // Edit the call that would run now (an earlier approver's edit included).
      const current = await client.call('GET', '/v1/approvals/{id}', { params: { id } });
      args = { ...current.args, ...edits };
    }
    const approval = await client.call('POST', '/v1/approvals/{id}/approve', { params: { id }, body: { reason: options.reason as string, ...(args ? { args } : {}) } });
    if (options.json) {
      io.stdout.write(`${JSON.stringify(approval)}\n`);
      return;
    }
    const edited = args ? ` with ${summarizeArgs(approval.args)}` : '';
    if (approval.status === 'pending') {
      io.stdout.write(`Approval counted for ${approval.id}${edited}: tier ${approval.tier} needs ${approval.approvalsRemaining} more.\n`);
    } else {
      io.stdout.write(`Approved ${approval.id}${edited}: ${approval.agent} may now run ${approval.tool}.\n`);
    }
  });
}

export async function approvalsDenyCommand(id: string, options: ApprovalActOptions, io: Io, env: Env = process.env): Promise<number> {
  if (!options.reason?.trim()) return usage(io, 'say why with --reason (the agent and the audit trail get it)');
  return withServer(options, io, env, async (client) => {
    const approval = await client.call('POST', '/v1/approvals/{id}/deny', { params: { id }, body: { reason: options.reason as string } });
    io.stdout.write(options.json ? `${JSON.stringify(approval)}\n` : `Denied ${approval.id}: ${approval.agent} will not run ${approval.tool}.\n`);
  });
}

/**
 * Blocks until the approval is decided (long polls of at most a minute, repeated); exit 0 approved
 * (or already redeemed), 1 denied, 2 expired, 3 still pending after --timeout, 4 any error.
 */
export async function approvalsWaitCommand(id: string, options: ApprovalWaitOptions, io: Io, env: Env = process.env): Promise<number> {
  let timeoutMs = Infinity;
  if (options.timeout !== undefined) {
    const parsed = parseDuration(options.timeout);
    if (parsed === undefined) {
      io.stderr.write('airlock: --timeout takes a duration: 90s, 15m, 2h (or seconds)\n');
      return WAIT_EXIT.error;
    }
    timeoutMs = parsed;
  }
  // Not withServer: its failures exit 1 or 2, which would read as a decision here.
  let client: ServerClient | undefined;
  try {
    client = await connect(options, env);
    const deadline = Date.now() + timeoutMs;
    let approval = await waitOnce(client, id, 0);
    while (approval.status === 'pending') {
      const left = deadline - Date.now();
      if (left <= 0) break;
      approval = await waitOnce(client, id, Math.min(POLL_SECONDS, Math.ceil(left / 1000)));
    }
    if (options.json) io.stdout.write(`${JSON.stringify(approval)}\n`);
    else {
      const by = approval.resolvedBy ? ` by ${approval.resolvedBy}` : '';
      const why = approval.resolutionReason ? `: ${approval.resolutionReason}` : '';
      io.stdout.write(`${approval.id} ${approval.status === 'pending' ? 'is still pending' : approval.status}${by}${why}\n`);
    }
    switch (approval.status) {
      case 'approved':
      case 'redeemed':
        return WAIT_EXIT.approved;
      case 'denied':
        return WAIT_EXIT.denied;
      case 'expired':
        return WAIT_EXIT.expired;
      default:
        return WAIT_EXIT.timeout;
    }
  } catch (error) {
    if (error instanceof CommandFailure) reportFailure(error, io);
    else io.stderr.write(`airlock: ${error instanceof Error ? error.message : String(error)}\n`);
    return WAIT_EXIT.error;
  } finally {
    await client?.close();
  }
}

function waitOnce(client: ServerClient, id: string, seconds: number): Promise<Approval> {
  return client.call('GET', '/v1/approvals/{id}/wait', { params: { id }, query: { timeout: seconds } });
}

/** `key=value` pairs: a value that parses as JSON is that value (50, true, {"a":1}), else the string. */
export function parseEdits(pairs: readonly string[]): Record<string, unknown> {
  const edits: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--edit takes key=value, not '${pair}'`);
    const key = pair.slice(0, at);
    const text = pair.slice(at + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      // not JSON: the string itself
    }
    edits[key] = value;
  }
  return edits;
}

function usage(io: Io, message: string): number {
  io.stderr.write(`airlock: ${message}\n`);
  return 2;
}

function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** `account_id=A-17 amount=75 currency=USD`, cut to 48 characters. */
export function summarizeArgs(args: Record<string, unknown>): string {
  const text = Object.entries(args)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return text.length > 48 ? `${text.slice(0, 47)}…` : text;
}

function age(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n') + '\n';
}

function describe(a: Approval): string {
  const lines = [
    `${a.id}  ${a.status}`,
    `agent     ${a.agent} (role ${a.role}, ${a.environment})`,
    `tool      ${a.tool}`,
    `args      ${JSON.stringify(a.args)}${a.edited ? `  (edited; requested ${JSON.stringify(a.requestedArgs)})` : ''}`,
    `rule      ${a.rule ?? '-'}: ${a.reason}`,
    `tier      ${a.tier} (${a.tierIndex + 1} of ${a.tierCount}), approvers ${a.approvers.length > 0 ? a.approvers.join(', ') : 'anyone who may approve'}, ${a.requiredApprovals - a.approvalsRemaining}/${a.requiredApprovals} approvals`,
    ...a.approvals.map((vote) => `          approved by ${vote.by} at ${vote.at}${vote.edited ? ' (edited)' : ''}: ${vote.reason}`),
    ...(a.intent ? [`intent    ${a.intent}`] : []),
    ...(a.session ? [`session   ${a.session}`] : []),
    `created   ${a.createdAt}, expires ${a.expiresAt}${a.deadlineAt ? `, tier deadline ${a.deadlineAt} (then ${a.onTimeout ?? '-'})` : ''}`,
    ...(a.resolvedBy ? [`decided   ${a.status} by ${a.resolvedBy} at ${a.resolvedAt ?? ''}: ${a.resolutionReason ?? ''}`] : []),
    ...(a.redeemedAt ? [`redeemed  ${a.redeemedAt}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

export { CommandFailure };
