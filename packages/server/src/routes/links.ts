import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AirlockError } from '../errors.js';
import { escapeHtml, htmlPage, scriptLiteral } from '../http/html.js';
import { approverOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import type { LinkClaims } from '../notifications/links.js';
import type { ApprovalView } from '../services/approval-view.js';
import type { Approver } from '../services/approvals.js';
import type { Services } from '../services/services.js';
import { SESSION_COOKIE } from './auth.js';

const token = z.string().min(1).max(2048);
const linkBody = z.object({ token, reason: z.string().trim().min(1).max(2000).optional() });

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

  const act = (claims: LinkClaims, approver: Approver, reason: string | undefined): Promise<ApprovalView> => {
    const link = { nonce: claims.nonce, tier: claims.tier };
    const said = reason ?? `${claims.action === 'approve' ? 'approved' : 'denied'} from a notification link`;
    return claims.action === 'approve' ? approvals.approve(claims.approval, approver, { reason: said, link }) : approvals.deny(claims.approval, approver, { reason: said, link });
  };

  return [
    defineRoute({
      method: 'GET',
      url: '/v1/approval-links',
      tag: 'approvals',
      summary: 'The page an approve/deny link opens: the approval and a button to act (signed in, or one-click). Opening it changes nothing.',
      query: z.object({ token }),
      produces: 'text/html',
      async handler({ query, request, reply }) {
        let claims: LinkClaims;
        try {
          claims = claimsOf(query.token);
        } catch (error) {
          return sendPage(reply, 403, 'Link not valid', `<p>${escapeHtml((error as Error).message)}.</p>`);
        }
        const oneClick = claims.user !== undefined && links.mode === 'one-click';
        let csrfToken: string | undefined;
        if (!oneClick) {
          const cookie = request.cookies[SESSION_COOKIE];
          const user = cookie === undefined ? undefined : await auth.session(cookie);
          if (!user) {
            return sendPage(reply, 401, 'Sign in to decide', '<p>This approval link needs you to be signed in to Airlock. <a href="/">Sign in</a>, then open the link again.</p>');
          }
          csrfToken = user.csrfToken;
        }
        let approval: ApprovalView;
        try {
          approval = await approvals.get(claims.approval, { user: claims.user ?? 'link' });
        } catch {
          return sendPage(reply, 404, 'Approval not found', '<p>This approval does not exist.</p>');
        }
        return sendPage(reply, 200, `${claims.action === 'approve' ? 'Approve' : 'Deny'} ${approval.tool}?`, actionPage(approval, claims, query.token, oneClick, csrfToken));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approval-links',
      tag: 'approvals',
      summary: 'Act on an approve/deny link as the signed-in person (session and CSRF header required).',
      body: linkBody,
      handler: ({ body, principal }) => {
        const claims = claimsOf(body.token);
        const approver = approverOf(principal);
        if (claims.user !== undefined && claims.user !== approver.username) throw new AirlockError('link_invalid', 'this link was sent to someone else');
        return act(claims, approver, body.reason);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/approval-links/one-click',
      tag: 'approvals',
      summary: 'Act on a one-click link without a session: only when links.mode is one-click and the token names its user.',
      body: linkBody,
      async handler({ body }) {
        const claims = claimsOf(body.token);
        if (links.mode !== 'one-click' || claims.user === undefined) throw new AirlockError('link_invalid', 'this link needs you to be signed in');
        const user = await auth.approver(claims.user);
        if (!user || (user.role !== 'approver' && user.role !== 'admin')) throw new AirlockError('link_invalid', 'the person this link was sent to may not approve');
        return act(claims, user, body.reason);
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

function actionPage(approval: ApprovalView, claims: LinkClaims, token: string, oneClick: boolean, csrfToken: string | undefined): string {
  const verb = claims.action === 'approve' ? 'Approve' : 'Deny';
  const facts = [
    `<p><strong>${escapeHtml(approval.agent)}</strong> wants to run <code>${escapeHtml(approval.tool)}</code>: ${escapeHtml(approval.reason)}</p>`,
    `<pre>${escapeHtml(JSON.stringify(approval.args, null, 2))}</pre>`,
    `<p>Status: ${escapeHtml(approval.status)} · tier ${escapeHtml(approval.tier)} (${escapeHtml(approval.approvers.join(', ') || 'any approver')}) · ${approval.approvalsRemaining} of ${approval.requiredApprovals} approvals still needed</p>`,
  ];
  if (approval.status !== 'pending') return facts.join('\n');
  const headers = oneClick ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', 'x-airlock-csrf': csrfToken };
  return `${facts.join('\n')}
<p><label>Reason <input id="reason" size="40" placeholder="optional"></label></p>
<p><button id="act">${verb}</button></p>
<p id="out" role="status"></p>
<script>
document.getElementById('act').addEventListener('click', async (event) => {
  event.target.disabled = true;
  const reason = document.getElementById('reason').value.trim();
  const response = await fetch(${scriptLiteral(oneClick ? '/v1/approval-links/one-click' : '/v1/approval-links')}, {
    method: 'POST', credentials: 'same-origin', headers: ${scriptLiteral(headers)},
    body: JSON.stringify(reason ? { token: ${scriptLiteral(token)}, reason } : { token: ${scriptLiteral(token)} }),
  });
  const answer = await response.json();
  document.getElementById('out').textContent = response.ok
    ? 'Done: the approval is ' + answer.status + (answer.status === 'pending' ? ' (' + answer.approvalsRemaining + ' more approval(s) needed)' : '') + '.'
    : 'Not done: ' + answer.error.message;
});
</script>`;
}
