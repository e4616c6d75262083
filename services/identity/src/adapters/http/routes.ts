// The identity HTTP adapter: each route declared in the contracts gets its handler here; auth,
// the permission check and validation happen in `mountRoutes` from the declaration.
import { serviceRoutes, requireUser, type AuthedRequest, type Authenticator } from '@usageflow/auth';
import {
  IDENTITY_ROUTES,
  type AcceptInvitationBody,
  type CreateApiKeyBody,
  type CreateInvitationBody,
  type IdentityOperation,
  type LoginBody,
  type LogoutBody,
  type RefreshBody,
  type SignupBody,
  type UpdateMemberBody,
  type UpdateOrganizationBody,
} from '@usageflow/contracts';
import { idempotentRequest, pageRequest, sendStored } from '@usageflow/http';
import type { Response } from 'express';
import { createApiKey, listApiKeys, revokeApiKey } from '../../app/api-keys';
import type { IdentityContext } from '../../app/context';
import { acceptInvitation, invite, listInvitations, revokeInvitation } from '../../app/invitations';
import type { KeyRing } from '../../app/key-ring';
import { changeRole, listMembers, me, removeMember, type Actor } from '../../app/members';
import { organization, updateOrganization } from '../../app/organizations';
import { login, logout, refresh, signup } from '../../app/sessions';

type Handler = (req: AuthedRequest, res: Response) => Promise<void>;

/** The signed-in person behind a JWT route. */
function actorOf(req: AuthedRequest): Actor {
  const { userId, organizationId, role } = requireUser(req);
  return { userId, organizationId, role };
}

/** Mounts every identity route on `app`. */
export function identityRoutes(ctx: IdentityContext, keys: KeyRing, authenticator: Authenticator) {
  const handlers: Record<IdentityOperation, Handler> = {
    signup: async (req, res) => {
      res.status(201).json(await signup(ctx, keys, req.body as SignupBody));
    },
    login: async (req, res) => {
      res.json(await login(ctx, keys, req.body as LoginBody, req.ip ?? req.socket.remoteAddress ?? 'unknown'));
    },
    refreshToken: async (req, res) => {
      res.json(await refresh(ctx, keys, req.body as RefreshBody));
    },
    logout: async (req, res) => {
      await logout(ctx, (req.body as LogoutBody).refreshToken);
      res.status(204).end();
    },
    getMe: async (req, res) => {
      res.json(await me(ctx, actorOf(req)));
    },
    getOrganization: async (req, res) => {
      res.json(await organization(ctx, actorOf(req)));
    },
    updateOrganization: async (req, res) => {
      res.json(await updateOrganization(ctx, actorOf(req), req.body as UpdateOrganizationBody));
    },
    listMembers: async (req, res) => {
      res.json(await listMembers(ctx, actorOf(req), pageRequest(req.query)));
    },
    updateMember: async (req, res) => {
      const body = req.body as UpdateMemberBody;
      res.json(await changeRole(ctx, actorOf(req), String(req.params.userId), body.role));
    },
    removeMember: async (req, res) => {
      await removeMember(ctx, actorOf(req), String(req.params.userId));
      res.status(204).end();
    },
    createInvitation: async (req, res) => {
      const actor = actorOf(req);
      let deliver: (() => Promise<void>) | undefined;
      const response = await idempotentRequest(ctx.db, req, actor.organizationId, async (trx) => {
        const created = await invite(ctx, trx, actor, req.body as CreateInvitationBody);
        deliver = created.deliver;
        return { status: 201, body: created.invitation };
      });
      await deliver?.(); // after commit; a replay sends no second e-mail
      sendStored(res, response);
    },
    listInvitations: async (req, res) => {
      res.json(await listInvitations(ctx, actorOf(req), pageRequest(req.query)));
    },
    revokeInvitation: async (req, res) => {
      await revokeInvitation(ctx, actorOf(req), String(req.params.id));
      res.status(204).end();
    },
    acceptInvitation: async (req, res) => {
      res.json(await acceptInvitation(ctx, keys, req.body as AcceptInvitationBody));
    },
    createApiKey: async (req, res) => {
      const actor = actorOf(req);
      let secret: string | undefined;
      const response = await idempotentRequest(ctx.db, req, actor.organizationId, async (trx) => {
        const { key, ...listed } = await createApiKey(ctx, trx, actor, req.body as CreateApiKeyBody);
        secret = key;
        // NOTE: the stored replay omits the key: no secret at rest outside its digest.
        return { status: 201, body: listed };
      });
      if (!response.replayed) response.body = { ...(response.body as object), key: secret };
      sendStored(res, response);
    },
    listApiKeys: async (req, res) => {
      res.json(await listApiKeys(ctx, actorOf(req), pageRequest(req.query)));
    },
    revokeApiKey: async (req, res) => {
      await revokeApiKey(ctx, actorOf(req), String(req.params.id));
      res.status(204).end();
    },
    getJwks: async (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json(await keys.jwks());
    },
  };
  return serviceRoutes({ title: 'UsageFlow identity API', routes: IDENTITY_ROUTES, handlers, authenticator });
}
