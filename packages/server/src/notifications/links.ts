import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export type LinkAction = 'approve' | 'deny';

/** What a link token says: act on this approval, in this tier, before this time; `user` only for one-click links. */
export interface LinkClaims {
  approval: string;
  action: LinkAction;
  tier: number;
  /** Random, recorded on the approval when the link is used: each token works once. */
  nonce: string;
  expiresAt: number;
  user?: string;
}

const claimsSchema = z.strictObject({
  v: z.literal(1),
  a: z.string().min(1).max(128),
  x: z.enum(['approve', 'deny']),
  t: z.number().int().min(0),
  n: z.string().min(16).max(64),
  e: z.number().int(),
  u: z.string().min(1).max(128).optional(),
});

/** Why a token is refused; `expired` is told apart so the page can say so. */
export type LinkRefusal = 'malformed' | 'bad_signature' | 'expired';

/**
 * Signs and checks the tokens in approve/deny links: `<claims>.<signature>`, both base64url, the
 * signature an HMAC-SHA256 of the claims under the server's link secret. Nothing about a token is
 * stored until it is used.
 */
export class LinkSigner {
  constructor(private readonly secret: Buffer) {}

  sign(claims: Omit<LinkClaims, 'nonce'>): string {
    const payload = { v: 1, a: claims.approval, x: claims.action, t: claims.tier, n: randomBytes(16).toString('base64url'), e: claims.expiresAt, ...(claims.user ? { u: claims.user } : {}) };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  verify(token: string, now: number): LinkClaims | LinkRefusal {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) return 'malformed';
    const expected = Buffer.from(this.mac(body));
    const presented = Buffer.from(signature);
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return 'bad_signature';
    let parsed;
    try {
      parsed = claimsSchema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      return 'malformed';
    }
    if (!parsed.success) return 'malformed';
    const c = parsed.data;
    if (c.e <= now) return 'expired';
    return { approval: c.a, action: c.x, tier: c.t, nonce: c.n, expiresAt: c.e, ...(c.u ? { user: c.u } : {}) };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
