// Invitations: owners and admins invite by e-mail; the token goes only into the e-mail.
import {
  buildEvent,
  type AcceptInvitationBody,
  type CreateInvitationBody,
  type Invitation,
  type PageOf,
  type PageRequest,
  type Role,
  type TokenResponse,
} from '@usageflow/contracts';
import { appendToOutbox, iso, isoOrNull, type Knex } from '@usageflow/db';
import { CREATED_ORDER, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { identityErrors } from '../domain/errors';
import { decideAccept, decideInvite, decideRevokeInvitation, invitationStatus } from '../domain/invitations';
import { emailKey, newOpaqueToken, sha256Hex } from '../domain/secrets';
import { PRODUCER, type IdentityContext } from './context';
import type { KeyRing } from './key-ring';
import type { Actor } from './members';
import { hashNewPassword, verifyPassword } from './passwords';
import { issueSession } from './tokens';

interface InvitationRow extends Record<string, unknown> {
  id: string;
  email: string;
  role: Role;
  invited_by: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
}

function toInvitation(r: InvitationRow, now: Date): Invitation {
  const facts = {
    expiresAt: new Date(r.expires_at),
    acceptedAt: r.accepted_at ? new Date(r.accepted_at) : null,
    revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  };
  return {
    id: r.id,
    email: r.email,
    role: r.role,
    status: invitationStatus(facts, now),
    invitedBy: r.invited_by,
    expiresAt: iso(r.expires_at),
    createdAt: iso(r.created_at),
    acceptedAt: isoOrNull(r.accepted_at),
  };
}

const lockOrganization = (trx: Knex.Transaction, id: string) => trx('organizations').where({ id }).forUpdate().first();

/**
 * `POST /v1/invitations`, inside the caller's (idempotency) transaction. Returns the invitation
 * and a `deliver` step to run after commit: the e-mail leaves only once the invitation exists.
 */
export async function invite(
  ctx: IdentityContext,
  trx: Knex.Transaction,
  actor: Actor,
  body: CreateInvitationBody,
): Promise<{ invitation: Invitation; deliver: () => Promise<void> }> {
  decideInvite(actor.role, body.role);
  const org = await lockOrganization(trx, actor.organizationId);
  const already = await trx('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where({ 'm.organization_id': actor.organizationId, 'u.email_key': emailKey(body.email) })
    .first('m.user_id');
  if (already) throw identityErrors.ALREADY_A_MEMBER(`${body.email} is already a member`);
  const now = ctx.clock();
  const { token, digest } = newOpaqueToken(ctx.random(32));
  const row = {
    id: randomUUID(),
    organization_id: actor.organizationId,
    email: body.email,
    email_key: emailKey(body.email),
    role: body.role,
    token_digest: digest,
    invited_by: actor.userId,
    created_at: now,
    expires_at: new Date(now.getTime() + ctx.config.invitationTtlMs),
  };
  await trx('invitations').insert(row);
  await appendToOutbox(trx, [
    buildEvent('member.invited', {
      id: randomUUID(),
      organizationId: actor.organizationId,
      occurredAt: now,
      producer: PRODUCER,
      data: {
        invitationId: row.id,
        email: body.email,
        role: body.role,
        invitedBy: actor.userId,
        expiresAt: row.expires_at.toISOString(),
      },
    }),
  ]);
  const invitation = toInvitation(
    {
      ...row,
      created_at: now.toISOString(),
      expires_at: row.expires_at.toISOString(),
      accepted_at: null,
      revoked_at: null,
    },
    now,
  );
  const acceptUrl = `${ctx.config.publicBaseUrl}/accept-invitation?token=${encodeURIComponent(token)}`;
  const deliver = async () => {
    try {
      await ctx.mailer.sendInvitation({
        invitationId: row.id,
        to: body.email,
        organizationName: org.name,
        role: body.role,
        acceptUrl,
        token,
        expiresAt: row.expires_at,
      });
    } catch (err) {
      // The invitation stands; an admin can revoke it and invite again.
      ctx.logger.error({ err, invitationId: row.id }, 'the invitation e-mail could not be sent');
    }
  };
  return { invitation, deliver };
}

/** `GET /v1/invitations`. */
export function listInvitations(ctx: IdentityContext, actor: Actor, page: PageRequest): Promise<PageOf<Invitation>> {
  const now = ctx.clock();
  return keysetPage<InvitationRow, Invitation>(
    ctx.db('invitations').where({ organization_id: actor.organizationId }).select(),
    page,
    CREATED_ORDER,
    (r) => toInvitation(r, now),
  );
}

/** `DELETE /v1/invitations/{id}`. */
export async function revokeInvitation(ctx: IdentityContext, actor: Actor, id: string): Promise<void> {
  await ctx.db.transaction(async (trx) => {
    const row = await trx('invitations').where({ id, organization_id: actor.organizationId }).forUpdate().first();
    if (!row) throw identityErrors.INVITATION_NOT_FOUND();
    const now = ctx.clock();
    const facts = { expiresAt: new Date(row.expires_at), acceptedAt: row.accepted_at, revokedAt: row.revoked_at };
    if (decideRevokeInvitation(facts, now)) await trx('invitations').where({ id }).update({ revoked_at: now });
  });
}

/**
 * `POST /v1/invitations/accept`: once, before expiry. A new person gets an account with the
 * password they choose; an existing account proves itself with its password and joins.
 */
export async function acceptInvitation(
  ctx: IdentityContext,
  keys: KeyRing,
  body: AcceptInvitationBody,
): Promise<TokenResponse> {
  return ctx.db.transaction(async (trx) => {
    const inv = await trx('invitations')
      .where({ token_digest: sha256Hex(body.token) })
      .forUpdate()
      .first();
    if (!inv) throw identityErrors.INVITATION_NOT_FOUND('the token matches no invitation');
    const now = ctx.clock();
    decideAccept(
      {
        expiresAt: new Date(inv.expires_at),
        acceptedAt: inv.accepted_at ? new Date(inv.accepted_at) : null,
        revokedAt: inv.revoked_at ? new Date(inv.revoked_at) : null,
      },
      now,
    );
    await lockOrganization(trx, inv.organization_id);
    let user = await trx('users').where({ email_key: inv.email_key }).first();
    if (user) {
      if (!(await verifyPassword(body.password, user.password_hash, ctx.config.bcryptCost)))
        throw identityErrors.INVALID_CREDENTIALS('this e-mail has an account: use its password to join');
      const member = await trx('memberships').where({ organization_id: inv.organization_id, user_id: user.id }).first();
      if (member) throw identityErrors.ALREADY_A_MEMBER('you are already a member of this organization');
    } else {
      user = {
        id: randomUUID(),
        email: inv.email,
        email_key: inv.email_key,
        name: body.name ?? null,
        password_hash: await hashNewPassword(body.password, ctx.config.bcryptCost),
        created_at: now,
      };
      await trx('users').insert(user);
    }
    await trx('memberships').insert({
      organization_id: inv.organization_id,
      user_id: user.id,
      role: inv.role,
      joined_at: now,
      updated_at: now,
    });
    await trx('removed_memberships').where({ organization_id: inv.organization_id, user_id: user.id }).delete();
    await trx('invitations').where({ id: inv.id }).update({ accepted_at: now, accepted_by: user.id });
    await appendToOutbox(trx, [
      buildEvent('member.joined', {
        id: randomUUID(),
        organizationId: inv.organization_id,
        occurredAt: now,
        producer: PRODUCER,
        data: { userId: user.id, email: inv.email, role: inv.role, invitationId: inv.id },
      }),
    ]);
    return issueSession(ctx, keys, trx, { userId: user.id, organizationId: inv.organization_id, role: inv.role });
  });
}
