// One declarative call per route: the RouteSpec that documents an endpoint (contracts) also
// authenticates, authorizes and validates it, so the OpenAPI document and the behaviour cannot
// disagree. Pipeline: authenticate -> authorize -> validate path, query, body -> handle.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  buildOpenApiDocument,
  can,
  compileValidator,
  hasScope,
  isApiKeyScope,
  toExpressPath,
  type ApiKeyScope,
  type FieldIssue,
  type RouteAuth,
  type RouteSpec,
} from '@usageflow/contracts';
import { commonErrors, toFieldProblems, type FieldProblem } from '@usageflow/http';
import type { Express, IRouter, Request, RequestHandler, Response, Router } from 'express';
import { authErrors } from './errors';
import type { Authenticator, Credentials } from './authenticator';
import { API_KEY_HEADER } from './tokens';
import type { ApiKeyPrincipal, Principal, UserPrincipal } from './types';

type PrincipalFor<A extends RouteAuth> = A extends 'jwt'
  ? UserPrincipal
  : A extends 'apiKey'
    ? ApiKeyPrincipal
    : A extends 'jwtOrApiKey'
      ? Principal
      : undefined;
type ParamsOf<S> = S extends { pathParams: infer P extends Record<string, TSchema> }
  ? { [K in keyof P]: Static<P[K]> }
  : Record<string, string>;
type QueryOf<S> = S extends { query: infer Q extends Record<string, TSchema> }
  ? { [K in keyof Q]?: Static<Q[K]> }
  : Request['query'];
type BodyOf<S> = S extends { body: infer B extends TSchema } ? Static<B> : unknown;

/** A request that passed the route's pipeline: principal, params, query and body typed from its spec. */
export type AuthedRequest<S extends RouteSpec = RouteSpec> = Request<ParamsOf<S>, unknown, BodyOf<S>, QueryOf<S>> & {
  auth: PrincipalFor<S['auth']>;
};

/** One endpoint: its declaration and what it does once the caller is let in and the input is valid. */
export interface RouteHandler<S extends RouteSpec = RouteSpec> {
  spec: S;
  handle(req: AuthedRequest<S>, res: Response): Promise<void> | void;
}

/** Declares a route with its request typed from `spec` (declare the spec inline or with `satisfies RouteSpec`). */
export function defineRoute<const S extends RouteSpec>(spec: S, handle: RouteHandler<S>['handle']): RouteHandler<S> {
  return { spec, handle };
}

/** The credentials a request carries. */
export function credentialsOf(req: Request): Credentials {
  return { authorization: req.get('authorization'), apiKey: req.get(API_KEY_HEADER) };
}

/**
 * Mounts `routes` on `app`, each behind its pipeline. Refuses at startup a spec whose auth and
 * permission/scope contradict each other, rather than failing closed or open at request time.
 */
export function mountRoutes(
  app: Express | Router,
  authenticator: Authenticator,
  routes: readonly RouteHandler[],
): void {
  for (const route of routes) {
    checkSpec(route.spec);
    (app as IRouter)[route.spec.method](toExpressPath(route.spec.path), pipeline(route, authenticator));
  }
}

/**
 * A service's HTTP surface from its declared routes: each route gets its handler by operationId
 * (a declared route without one stops the service at startup) behind its pipeline, and the
 * OpenAPI document of exactly those routes is served at /openapi.json (the service's own part of
 * the API description; the edge merges every service's).
 */
export function serviceRoutes(options: {
  title: string;
  routes: readonly RouteSpec[];
  handlers: Readonly<Record<string, RouteHandler['handle']>>;
  authenticator: Authenticator;
}): (app: Express) => void {
  const routes: RouteHandler[] = options.routes.map((spec) => {
    const handle = options.handlers[spec.operationId];
    if (!handle) throw new Error(`no handler for ${spec.operationId}`);
    return { spec, handle };
  });
  const openapi = buildOpenApiDocument({ title: options.title, version: '1.0.0', routes: options.routes });
  return (app: Express) => {
    app.get('/openapi.json', (_req, res) => {
      res.json(openapi);
    });
    mountRoutes(app, options.authenticator, routes);
  };
}

/** The caller of an authenticated route; UNAUTHENTICATED when the route did not authenticate. */
export function principalOf(req: { auth?: Principal }): Principal {
  if (!req.auth) throw authErrors.UNAUTHENTICATED('this endpoint requires authentication');
  return req.auth;
}

/** The signed-in user of the request; UNAUTHENTICATED for an API key or no credential. */
export function requireUser(req: { auth?: Principal }): UserPrincipal {
  const principal = principalOf(req);
  if (principal.kind !== 'user')
    throw authErrors.UNAUTHENTICATED("this endpoint takes a user's bearer token, not an API key");
  return principal;
}

/** The scope an API key needs for `spec`: its `scope`, else its permission when that names a scope. */
export function requiredScope(spec: RouteSpec): ApiKeyScope | undefined {
  return spec.scope ?? (isApiKeyScope(spec.permission) ? spec.permission : undefined);
}

function checkSpec(spec: RouteSpec): void {
  const where = `route ${spec.operationId} (${spec.method.toUpperCase()} ${spec.path})`;
  if (spec.auth === 'none' && (spec.permission || spec.scope))
    throw new Error(`${where} has auth 'none' but requires ${spec.permission ?? spec.scope}`);
  if (spec.auth === 'jwt' && spec.scope) throw new Error(`${where} takes no API key but names scope ${spec.scope}`);
  if ((spec.auth === 'apiKey' || spec.auth === 'jwtOrApiKey') && spec.permission && !requiredScope(spec))
    throw new Error(`${where} takes API keys but ${spec.permission} is no API key scope: declare the scope keys need`);
}

function authorize(principal: Principal, spec: RouteSpec): void {
  if (principal.kind === 'user') {
    if (spec.permission && !can(principal.role, spec.permission))
      throw commonErrors.FORBIDDEN(
        `requires the ${spec.permission} permission, which the ${principal.role} role does not hold`,
      );
    return;
  }
  // A key-admitting route with neither permission nor scope lets any valid key of the organization in.
  const scope = requiredScope(spec);
  if (scope && !hasScope(principal.scopes, scope))
    throw commonErrors.FORBIDDEN(`requires an API key with the ${scope} scope`);
}

function pipeline(route: RouteHandler, authenticator: Authenticator): RequestHandler {
  const { spec } = route;
  const validate = requestValidator(spec);
  return async (req, res, next) => {
    try {
      if (spec.auth !== 'none') {
        const principal = await authenticator.authenticate(credentialsOf(req), spec.auth);
        req.auth = principal;
        // every later log line of the request names the tenant (req.log is absent outside createHttpApp)
        req.log = req.log?.child({
          organizationId: principal.organizationId,
          ...(principal.kind === 'user' ? { userId: principal.userId } : { apiKeyId: principal.apiKeyId }),
        });
        authorize(principal, spec);
      }
      validate(req);
      await route.handle(req as unknown as AuthedRequest, res);
    } catch (err) {
      next(err);
    }
  };
}

/** Checks path params, declared query params (undeclared ones are ignored) and the body, reporting every bad field at once. */
function requestValidator(spec: RouteSpec): (req: Request) => void {
  const path = spec.pathParams && compileValidator(Type.Object(spec.pathParams));
  const queryParams = spec.query ?? {};
  const query =
    spec.query &&
    compileValidator(
      Type.Object(Object.fromEntries(Object.entries(queryParams).map(([name, s]) => [name, Type.Optional(s)]))),
    );
  const body = spec.body && compileValidator(spec.body);

  return (req) => {
    const problems: FieldProblem[] = [];
    if (path) {
      const values = coerceAll(spec.pathParams!, req.params);
      const result = path(values);
      if (result.ok) req.params = { ...req.params, ...values } as Request['params'];
      else problems.push(...prefixed('path', result.issues));
    }
    if (query) {
      const values = coerceAll(queryParams, req.query as Record<string, unknown>);
      const result = query(values);
      // Express 5 computes req.query in a getter; the typed values replace it for the handler.
      if (result.ok)
        Object.defineProperty(req, 'query', {
          value: { ...req.query, ...values },
          configurable: true,
          enumerable: true,
          writable: true,
        });
      else problems.push(...prefixed('query', result.issues));
    }
    if (body) {
      const result = body(req.body ?? {});
      if (!result.ok) problems.push(...toFieldProblems(result.issues));
    }
    if (problems.length > 0)
      throw commonErrors.VALIDATION_FAILED(
        problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; '),
        { errors: problems },
      );
  };
}

function prefixed(where: 'path' | 'query', issues: readonly FieldIssue[]): FieldProblem[] {
  return toFieldProblems(issues).map((p) => ({ ...p, field: p.field ? `${where}.${p.field}` : where }));
}

/** The declared values of `raw`, numbers and booleans parsed where the schema asks for them ('' counts as absent). */
function coerceAll(schemas: Record<string, TSchema>, raw: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const value = raw[name];
    if (value !== undefined && value !== '') values[name] = coerce(schema, value);
  }
  return values;
}

function coerce(schema: TSchema, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const type = (schema as { type?: unknown }).type;
  if ((type === 'integer' || type === 'number') && /^-?\d{1,15}(\.\d{1,15})?$/.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}
