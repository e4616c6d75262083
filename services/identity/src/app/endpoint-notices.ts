// Telling an organization's people that webhook-dispatch disabled one of its endpoints for
// failing (webhook_endpoint.disabled). Identity owns the people and their addresses, so it sends
// the mail; the recipients are the members who may manage webhook endpoints (the roles matrix:
// OWNER and DEVELOPER), who are the ones able to fix the receiver and enable it again.
import { can, ROLES, type EventOf } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import type { IdentityContext } from './context';

/** The roles told of a disabled endpoint: those with `webhooks:manage`. */
export const ENDPOINT_NOTICE_ROLES = ROLES.filter((role) => can(role, 'webhooks:manage'));

/**
 * Mails every member with a notice role of the event's organization; returns how many were
 * mailed (0 for an organization identity does not know). Sending fails the whole notice, so the
 * caller's retry may mail some people twice (at-least-once, as notices go).
 */
export async function sendEndpointDisabledNotice(
  ctx: IdentityContext,
  db: Knex | Knex.Transaction,
  event: EventOf<'webhook_endpoint.disabled'>,
): Promise<number> {
  const organization = await db('organizations').where({ id: event.organizationId }).first<{ name: string }>('name');
  if (!organization) return 0;
  const recipients = await db('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where('m.organization_id', event.organizationId)
    .whereIn('m.role', ENDPOINT_NOTICE_ROLES)
    .orderBy('u.email')
    .select<{ email: string }[]>('u.email');
  for (const { email } of recipients) {
    await ctx.mailer.sendEndpointDisabled({
      to: email,
      organizationName: organization.name,
      endpointId: event.data.endpointId,
      url: event.data.url,
      failingSince: event.data.failingSince,
      disabledAt: event.occurredAt,
      ...(event.data.lastError === undefined ? {} : { lastError: event.data.lastError }),
    });
  }
  return recipients.length;
}
