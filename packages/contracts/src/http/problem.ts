// RFC 9457 problem details, the body of every 4xx/5xx answer of every service. Clients branch
// on `code` (stable, UPPER_SNAKE, never renamed nor reused), humans read `title` and `detail`.
import { Type, type Static } from '@sinclair/typebox';
import { Described } from '../common';

/** The media type of a problem body. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The shape of an error code: UPPER_SNAKE ("METRIC_KEY_TAKEN"). */
export const ERROR_CODE_PATTERN = '^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$';

/** One invalid field of a request (`field` is a dotted path, '' for the body itself). */
export const ProblemFieldError = Type.Object(
  {
    field: Type.String({ maxLength: 500 }),
    message: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);
export type ProblemFieldError = Static<typeof ProblemFieldError>;

/**
 * A problem+json body. Open to extension members as RFC 9457 allows (clients ignore what they
 * do not know); a 5xx never carries an internal message in `detail`.
 */
export const ProblemDetails = Type.Object({
  type: Type.String({
    format: 'uri-reference',
    minLength: 1,
    description: 'A URI reference identifying the problem type ("about:blank" or a docs URL).',
  }),
  title: Type.String({
    minLength: 1,
    description: 'A short summary of the problem type, the same for every occurrence.',
  }),
  status: Type.Integer({ minimum: 400, maximum: 599, description: 'The HTTP status code, repeated for convenience.' }),
  detail: Type.Optional(Type.String({ description: 'What went wrong this time, for a human.' })),
  code: Type.String({
    pattern: ERROR_CODE_PATTERN,
    maxLength: 100,
    description: 'The stable machine-readable error code.',
  }),
  instance: Type.Optional(
    Type.String({
      format: 'uri-reference',
      description: 'A URI reference for this occurrence (usually the request path).',
    }),
  ),
  requestId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'The request id, to find the request in logs and traces.',
    }),
  ),
  errors: Type.Optional(Described(Type.Array(ProblemFieldError), 'For validation failures: every invalid field.')),
});
export type ProblemDetails = Static<typeof ProblemDetails>;
