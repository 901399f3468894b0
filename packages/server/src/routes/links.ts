import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AirlockError } from '../errors.js';
import { escapeHtml, htmlPage, scriptLiteral } from '../http/html.js';
import { approverOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { LinkClaims } from '../notifications/links.js';
import type { ApprovalView } from '../services/approval-view.js';
import type { Approver } from '../services/approvals.js';
import type { Services } from '../services/services.js';
import { sha256Hex } from './schemas.js';

const token = z.string().min(1).max(2048);
const linkBody = z.object({
  token,
  reason: z.string().trim().min(1).max(2000).optional(),
  /** The `callHash` of the approval the page showed: an approval refused with call_changed if the call was edited since. */
  callHash: sha256Hex.optional(),
});

/**
 * Approve/deny links from notifications. Opening a link never acts (chat unfurlers and mail
 * scanners open links): it shows a page whose button posts the action. In `login` mode the page
 * and the action need a signed-in session and act as that person; a one-click link (its token
 * names a user, `links.mode: one-click`) acts as that user without a session. Either way the
 * person must be entitled to the approval's current tier, and each token works once.
 */
export function linkRoutes(services: Services) {
  const { links, approvals, auth, clock } = services;

  const claimsOf = (token: string): LinkClaims => {
    const claims = links.signer.verify(token, clock.now());
    if (typeof claims === 'string') {
      throw new AirlockError('link_invalid', claims === 'expired' ? 'this link has expired' : 'this is not a valid Airlock link');
    }
    return claims;
  };

  const act = (claims: LinkClaims, approver: Approver, reason: string | undefined, callHash: string | undefined): Promise<ApprovalView> => {
    const link = { nonce: claims.nonce, tier: claims.tier };
    const said = reason ?? `${claims.action === 'approve' ? 'approved' : 'denied'} from a notification link`;
    return claims.action === 'approve' ? approvals.approve(claims.approval, approver, { reason: said, link, callHash }) : approvals.deny(claims.approval, approver, { reason: said, link });
  };

  return [
    defineRoute({
      method: 'GET',
      url: '/v1/approval-links',
      tag: 'approvals',
      summary: 'The page an approve/deny link opens: the approval and a button to act (signed in, or one-click). Opening it changes nothing.',
      query: z.object({ token }),
      produces: 'text/html',
      async handler({ query, reply }) {
        let claims: LinkClaims;
        try {
          claims = claimsOf(query.token);
        } catch (error) {
          return sendPage(reply, 403, 'Link not valid', `<p>${escapeHtml((error as Error).message)}.</p>`);
        }
        const verb = claims.action === 'approve' ? 'Approve' : 'Deny';
        if (claims.user === undefined || links.mode !== 'one-click') {
          // The session cookie is SameSite=Strict, so a link followed from a chat or a mail client
          // arrives without it: the page checks the session itself with same-origin requests.
          return sendPage(reply, 200, `${verb} this call?`, signedInPage(claims, query.token));
        }
        let approval: ApprovalView;
        try {
          approval = await approvals.get(claims.approval, { user: claims.user });
        } catch {
          return sendPage(reply, 404, 'Approval not found', '<p>This approval does not exist.</p>');
        }
        return sendPage(reply, 200, `${verb} ${approval.tool}?`, oneClickPage(approval, claims, query.token));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approval-links',
      response: V.ApprovalView,
      tag: 'approvals',
      summary: 'Act on an approve/deny link as the signed-in person (session and CSRF header required).',
      body: linkBody,
      handler: ({ body, principal }) => {
        const claims = claimsOf(body.token);
        const approver = approverOf(principal);
        if (claims.user !== undefined && claims.user !== approver.username) throw new AirlockError('link_invalid', 'this link was sent to someone else');
        return act(claims, approver, body.reason, body.callHash);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approval-links/one-click',
      response: V.ApprovalView,
      tag: 'approvals',
      summary: 'Act on a one-click link without a session: only when links.mode is one-click and the token names its user.',
      body: linkBody,
      async handler({ body }) {
        const claims = claimsOf(body.token);
        if (links.mode !== 'one-click' || claims.user === undefined) throw new AirlockError('link_invalid', 'this link needs you to be signed in');
        const user = await auth.approver(claims.user);
        if (!user || (user.role !== 'approver' && user.role !== 'admin')) throw new AirlockError('link_invalid', 'the person this link was sent to may not approve');
        return act(claims, user, body.reason, body.callHash);
      },
    }),
  ];
}

function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  // The token is in the URL: keep it out of Referer headers and caches.
  return reply
    .code(status)
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .type('text/html; charset=utf-8')
    .send(htmlPage(title, body));
}

/** The facts of an approval as the pages show them (as text: never parsed as HTML). */
const DESCRIBE = `function describe(a) {
  const who = a.approvers.length ? a.approvers.join(', ') : 'any approver';
  return [a.agent + ' wants to run ' + a.tool + ': ' + a.reason, JSON.stringify(a.args, null, 2),
    'Status: ' + a.status + ' · tier ' + a.tier + ' (' + who + ') · ' + a.approvalsRemaining + ' of ' + a.requiredApprovals + ' approvals still needed'];
}
// The call as shown: an approve names it, and is refused (call_changed) if an edit replaced it since.
let shownCallHash;
function show(a) {
  shownCallHash = a.callHash;
  const [what, args, need] = describe(a);
  document.getElementById('what').textContent = what;
  document.getElementById('args').textContent = args;
  document.getElementById('args').hidden = false;
  document.getElementById('need').textContent = need;
}
async function act(path, headers, token) {
  const button = document.getElementById('act');
  button.disabled = true;
  const reason = document.getElementById('reason').value.trim();
  const body = { token, callHash: shownCallHash, ...(reason ? { reason } : {}) };
  const response = await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) });
  const answer = await response.json();
  if (response.ok) show(answer);
  document.getElementById('out').textContent = response.ok
    ? 'Done: the approval is ' + answer.status + (answer.status === 'pending' ? ' (' + answer.approvalsRemaining + ' more approval(s) needed)' : '') + '.'
    : 'Not done: ' + answer.error.message;
}`;

const FORM = (verb: string) => `<p id="what">Checking that you are signed in…</p>
<pre id="args" hidden></pre>
<p id="need"></p>
<p><label>Reason <input id="reason" size="40" placeholder="optional"></label></p>
<p><button id="act" disabled>${verb}</button></p>
<p id="out" role="status"></p>`;

/**
 * Login mode: the page holds no approval data. Its script asks for the session (same-origin, so
 * the cookie is sent), shows the approval, and posts the action with the session's CSRF token.
 */
function signedInPage(claims: LinkClaims, token: string): string {
  const verb = claims.action === 'approve' ? 'Approve' : 'Deny';
  return `${FORM(verb)}
<script>
${DESCRIBE}
(async () => {
  const session = await fetch('/v1/auth/session', { credentials: 'same-origin' });
  if (!session.ok) {
    document.getElementById('what').textContent = 'Sign in to Airlock in this browser (at ' + location.origin + '/), then reload this page.';
    return;
  }
  const { csrfToken } = await session.json();
  const found = await fetch('/v1/approvals/' + encodeURIComponent(${scriptLiteral(claims.approval)}), { credentials: 'same-origin' });
  if (!found.ok) {
    document.getElementById('what').textContent = 'This approval cannot be shown: ' + (await found.json()).error.message;
    return;
  }
  const approval = await found.json();
  show(approval);
  if (approval.status !== 'pending') return;
  const button = document.getElementById('act');
  button.disabled = false;
  button.addEventListener('click', () => act('/v1/approval-links', { 'content-type': 'application/json', 'x-airlock-csrf': csrfToken }, ${scriptLiteral(token)}));
})();
</script>`;
}

/** One-click mode: the token is the credential, so the page shows the approval and posts without a session. */
function oneClickPage(approval: ApprovalView, claims: LinkClaims, token: string): string {
  const verb = claims.action === 'approve' ? 'Approve' : 'Deny';
  return `${FORM(verb)}
<script>
${DESCRIBE}
const approval = ${scriptLiteral(approval)};
show(approval);
if (approval.status === 'pending') {
  const button = document.getElementById('act');
  button.disabled = false;
  button.addEventListener('click', () => act('/v1/approval-links/one-click', { 'content-type': 'application/json' }, ${scriptLiteral(token)}));
}
</script>`;
}
