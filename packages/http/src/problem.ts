// RFC 9457 problem+json. Services declare their stable error codes once, in one registry
// (code -> status -> title), throw `ProblemError`s from it, and only the error middleware turns
// them into responses.

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One field-level problem of a request (`field` is a dotted path, e.g. `events[3].amount`). */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

/** An error that becomes a problem+json response with a stable code. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: { errors?: FieldProblem[]; [k: string]: unknown } = {},
    options?: { cause?: unknown },
  ) {
    super(detail ?? title, options);
    this.name = 'ProblemError';
  }
}

export interface ErrorSpec {
  status: number;
  title: string;
}

/**
 * Declares a service's error registry. Returns a factory per code:
 *   const errors = defineErrors({ METRIC_KEY_TAKEN: { status: 409, title: 'Metric key already exists' } });
 *   throw errors.METRIC_KEY_TAKEN('API_CALL is taken');
 */
export function defineErrors<C extends string>(registry: Record<C, ErrorSpec>) {
  const factories = {} as Record<
    C,
    (detail?: string, extensions?: ProblemError['extensions'], options?: { cause?: unknown }) => ProblemError
  >;
  for (const code of Object.keys(registry) as C[]) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(code)) throw new Error(`error code ${code} must be UPPER_SNAKE`);
    const spec = registry[code];
    factories[code] = (detail, extensions, options) =>
      new ProblemError(spec.status, code, spec.title, detail, extensions, options);
  }
  return factories;
}

/** Codes every service shares (request shape, auth, the unexpected). */
export const commonErrors = defineErrors({
  VALIDATION_FAILED: { status: 400, title: 'The request is invalid' },
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  FORBIDDEN: { status: 403, title: 'Not allowed for this role' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such endpoint' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  INVALID_CURSOR: { status: 400, title: 'The pagination cursor is invalid' },
  IDEMPOTENCY_KEY_INVALID: { status: 400, title: 'The Idempotency-Key header is invalid' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency-Key reused with a different request' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Temporarily unavailable' },
  INTERNAL: { status: 500, title: 'Internal error' },
});

/** The body for a problem; 5xx never carry the internal message. */
export function problemBody(err: ProblemError, requestId: string, instance: string): ProblemBody {
  const body: ProblemBody = {
    type: `https://docs.usageflow.dev/errors/${err.code.toLowerCase().replace(/_/g, '-')}`,
    title: err.title,
    status: err.status,
    code: err.code,
    instance,
    requestId,
    ...err.extensions,
  };
  if (err.detail !== undefined) body.detail = err.detail;
  return body;
}
