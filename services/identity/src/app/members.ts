// Who the caller is and the members of their organization.
import {
  buildEvent,
  permissionsOf,
  type Member,
  type MeResponse,
  type PageOf,
  type PageRequest,
  type Role,
} from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { commonErrors, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { identityErrors } from '../domain/errors';
import { decideRemoval, decideRoleChange } from '../domain/members';
import { PRODUCER, type IdentityContext } from './context';
import { organizationsOf } from './tokens';

/** A signed-in person acting in one organization. */
export interface Actor {
  userId: string;
  organizationId: string;
  role: Role;
}

interface MemberRow extends Record<string, unknown> {
  user_id: string;
  email: string;
  name: string | null;
  role: Role;
  joined_at: string;
}

const toMember = (r: MemberRow): Member => ({
  userId: r.user_id,
  email: r.email,
  name: r.name,
  role: r.role,
  joinedAt: new Date(r.joined_at).toISOString(),
});

function membersOf(db: Knex, organizationId: string) {
  return db('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where('m.organization_id', organizationId)
    .select('m.user_id', 'u.email', 'u.name', 'm.role', 'm.joined_at');
}

/** `GET /v1/me`. */
export async function me(ctx: IdentityContext, actor: Actor): Promise<MeResponse> {
  const user = await ctx.db('users').where({ id: actor.userId }).first();
  const org = await ctx.db('organizations').where({ id: actor.organizationId }).first();
  if (!user || !org) throw commonErrors.UNAUTHENTICATED('the account no longer exists');
  return {
    user: { id: user.id, email: user.email, name: user.name, createdAt: new Date(user.created_at).toISOString() },
    organization: { id: org.id, name: org.name },
    role: actor.role,
    permissions: [...permissionsOf(actor.role)],
    organizations: await organizationsOf(ctx.db, actor.userId),
  };
}

/** `GET /v1/members`. */
export function listMembers(ctx: IdentityContext, actor: Actor, page: PageRequest): Promise<PageOf<Member>> {
  return keysetPage<MemberRow, Member>(
    membersOf(ctx.db, actor.organizationId),
    page,
    [
      { column: 'm.joined_at', field: 'joined_at', type: 'timestamptz' },
      { column: 'm.user_id', field: 'user_id', type: 'uuid' },
    ],
    toMember,
  );
}

// Serializes membership changes of one organization (last-owner checks, per-key event order).
async function lockOrganization(trx: Knex.Transaction, organizationId: string): Promise<void> {
  await trx('organizations').where({ id: organizationId }).forUpdate().first('id');
}

async function targetFacts(trx: Knex.Transaction, organizationId: string, userId: string) {
  const target = (await membersOf(trx, organizationId).andWhere('m.user_id', userId).first()) as MemberRow | undefined;
  // Another organization's member is "not found" here: ids never reveal other tenants.
  if (!target) throw identityErrors.MEMBER_NOT_FOUND();
  const owners = await trx('memberships')
    .where({ organization_id: organizationId, role: 'OWNER' })
    .count<{ count: string }[]>('* as count');
  return { target, ownerCount: Number(owners[0]?.count ?? 0) };
}

/** `PATCH /v1/members/{userId}`: only OWNERs (members:manage); never leaves no OWNER. */
export async function changeRole(ctx: IdentityContext, actor: Actor, userId: string, role: Role): Promise<Member> {
  return ctx.db.transaction(async (trx) => {
    await lockOrganization(trx, actor.organizationId);
    const { target, ownerCount } = await targetFacts(trx, actor.organizationId, userId);
    if (!decideRoleChange({ role: target.role, ownerCount }, role)) return toMember(target);
    const now = ctx.clock();
    await trx('memberships')
      .where({ organization_id: actor.organizationId, user_id: userId })
      .update({ role, updated_at: now });
    await appendToOutbox(trx, [
      buildEvent('member.role_changed', {
        id: randomUUID(),
        organizationId: actor.organizationId,
        occurredAt: now,
        producer: PRODUCER,
        data: { userId, previousRole: target.role, role, changedBy: actor.userId },
      }),
    ]);
    return toMember({ ...target, role });
  });
}

/** `DELETE /v1/members/{userId}`: removes access, ends their sessions in this organization. */
export async function removeMember(ctx: IdentityContext, actor: Actor, userId: string): Promise<void> {
  await ctx.db.transaction(async (trx) => {
    await lockOrganization(trx, actor.organizationId);
    const { target, ownerCount } = await targetFacts(trx, actor.organizationId, userId);
    decideRemoval({ role: target.role, ownerCount });
    const now = ctx.clock();
    await trx('memberships').where({ organization_id: actor.organizationId, user_id: userId }).delete();
    await trx('removed_memberships')
      .insert({ organization_id: actor.organizationId, user_id: userId, removed_at: now })
      .onConflict(['organization_id', 'user_id'])
      .merge();
    await trx('refresh_tokens')
      .where({ organization_id: actor.organizationId, user_id: userId })
      .whereNull('revoked_at')
      .update({ revoked_at: now });
    await appendToOutbox(trx, [
      buildEvent('member.removed', {
        id: randomUUID(),
        organizationId: actor.organizationId,
        occurredAt: now,
        producer: PRODUCER,
        data: { userId, role: target.role, removedBy: actor.userId },
      }),
    ]);
  });
}
