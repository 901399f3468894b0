import type { Kysely } from 'kysely';

/**
 * Single sign-on (OpenID Connect, docs/sso.md).
 *
 * `user_identities`: which Airlock user an identity provider's person is, by the pair the
 * OpenID Connect spec makes unique and stable (issuer, subject), never by a name the person could
 * change at the provider.
 *
 * `oidc_logins`: sign-ins started and not yet finished: the state sent to the provider (as a
 * SHA-256), the PKCE verifier and nonce, the hash of the browser binding cookie, and when it
 * expires. A callback takes its row once (`taken_by`, set by a conditional update), so a replayed
 * or concurrent callback finds it taken; expired rows are purged by the maintenance sweep.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('user_identities')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_identities_pk', ['issuer', 'subject'])
    .execute();
  await db.schema.createIndex('user_identities_user').on('user_identities').column('user_id').execute();
  await db.schema
    .createTable('oidc_logins')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('binding_hash', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('taken_by', 'text')
    .execute();
  await db.schema.createIndex('oidc_logins_expiry').on('oidc_logins').column('expires_at').execute();
}
