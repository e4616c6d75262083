// The caller's organization: read it, and (OWNER only, checked by the route) rename it or change
// its settings.
import {
  buildEvent,
  type OrganizationResponse,
  type UnknownMetricsMode,
  type UpdateOrganizationBody,
} from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { commonErrors } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { decideOrganizationUpdate } from '../domain/organizations';
import { PRODUCER, type IdentityContext } from './context';
import type { Actor } from './members';

interface OrganizationRow {
  id: string;
  name: string;
  unknown_metrics: UnknownMetricsMode;
  created_at: Date;
}

const toOrganization = (r: OrganizationRow): OrganizationResponse => ({
  id: r.id,
  name: r.name,
  settings: { unknownMetrics: r.unknown_metrics },
  createdAt: new Date(r.created_at).toISOString(),
});

async function load(db: Knex, organizationId: string, forUpdate = false): Promise<OrganizationResponse> {
  const query = db('organizations').where({ id: organizationId });
  const row = (await (forUpdate ? query.forUpdate() : query).first()) as OrganizationRow | undefined;
  if (!row) throw commonErrors.NOT_FOUND('no such organization');
  return toOrganization(row);
}

/** `GET /v1/organization`. */
export function organization(ctx: IdentityContext, actor: Actor): Promise<OrganizationResponse> {
  return load(ctx.db, actor.organizationId);
}

/**
 * `PATCH /v1/organization`: applies the change and emits organization.updated with the complete
 * new state, in one transaction. A change to what the organization already has writes nothing
 * and emits nothing.
 */
export async function updateOrganization(
  ctx: IdentityContext,
  actor: Actor,
  change: UpdateOrganizationBody,
): Promise<OrganizationResponse> {
  return ctx.db.transaction(async (trx) => {
    // the row lock orders concurrent updates, so the last event on the topic is the final state
    const current = await load(trx, actor.organizationId, true);
    const next = decideOrganizationUpdate(current, change);
    if (!next) return current;
    await trx('organizations')
      .where({ id: actor.organizationId })
      .update({ name: next.name, unknown_metrics: next.settings.unknownMetrics });
    await appendToOutbox(trx, [
      buildEvent('organization.updated', {
        id: randomUUID(),
        organizationId: actor.organizationId,
        occurredAt: ctx.clock(),
        producer: PRODUCER,
        data: { name: next.name, settings: next.settings },
      }),
    ]);
    return { ...current, ...next };
  });
}
