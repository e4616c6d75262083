// Validation of any contract schema (events, HTTP bodies) with one shared Ajv instance, and the
// translation of Ajv's errors into short lines that name the field:
//   data.amount: must match pattern "^(0|[1-9]\d*)(\.\d+)?$"
//   data: must have required property 'customerId'
// These lines go to HTTP clients (problem+json `errors`) and to dead-letter records, so they
// must make sense to someone who has never seen the schema.
import type { Static, TSchema } from '@sinclair/typebox';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ContractViolationError } from './errors';

// One instance for the process: compiling is the expensive part and Ajv caches per instance.
// strict: a schema using an unknown keyword or a type-inapplicable keyword fails to compile,
// so a typo in a contract is caught by the tests, not silently ignored.
// allErrors: report every problem of a request at once, not only the first.
// verbose: errors carry their schema, used below to list the allowed values of a tag.
const ajv = new Ajv2020({ strict: true, allErrors: true, discriminator: true, verbose: true });
addFormats(ajv, ['date-time', 'uuid', 'email', 'uri', 'uri-reference']);

/** One problem with a value: the field (dotted path, '' for the value itself) and what is wrong. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The outcome of validating a value against a schema. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[]; issues: FieldIssue[] };

/** A compiled validator of one schema. */
export interface Validator<T> {
  (value: unknown): ValidationResult<T>;
  /** The schema it checks. */
  readonly schema: TSchema;
}

const compiled = new WeakMap<TSchema, ValidateFunction>();

function ajvValidator(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * Compiles `schema` once (cached per schema object) into a validator with readable errors.
 * Pass long-lived schema constants: each distinct schema object is compiled and kept for the
 * life of the process.
 */
export function compileValidator<S extends TSchema>(schema: S): Validator<Static<S>> {
  const validator = (value: unknown): ValidationResult<Static<S>> => {
    const validate = ajvValidator(schema);
    if (validate(value)) return { ok: true, value: value as Static<S> };
    const issues = toIssues(validate.errors ?? []);
    return { ok: false, issues, errors: issues.map(issueText) };
  };
  return Object.assign(validator, { schema });
}

/** Validates `value` (an HTTP body, a query, a config) against `schema`. */
export function validateBody<S extends TSchema>(schema: S, value: unknown): ValidationResult<Static<S>> {
  return compileValidator(schema)(value);
}

/** Returns `value` typed when it satisfies `schema`, else throws `ContractViolationError`. */
export function assertValid<S extends TSchema>(schema: S, value: unknown, what = 'value'): Static<S> {
  const result = validateBody(schema, value);
  if (!result.ok) throw new ContractViolationError(result.errors, what);
  return result.value;
}

/** An issue as one line: `field: message` (the message alone for the value itself). */
export function issueText(issue: FieldIssue): string {
  return issue.field ? `${issue.field}: ${issue.message}` : issue.message;
}

/** Turns a JSON pointer (`/data/lines/0/amount`) into a field path (`data.lines[0].amount`). */
export function fieldPath(instancePath: string): string {
  if (!instancePath) return '';
  let path = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9]\d*)$/.test(segment)) path += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) path += path ? `.${segment}` : segment;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** Translates Ajv errors into readable, de-duplicated issues. */
export function toIssues(errors: readonly ErrorObject[]): FieldIssue[] {
  const kept = resolveAnyOf(errors);
  // A failed `format` already says what the value must be; the pattern that backs it up (UTC,
  // lowercase) adds noise for the same field.
  const formatFailed = new Set(kept.filter((e) => e.keyword === 'format').map((e) => e.instancePath));
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  for (const error of kept) {
    if (error.keyword === 'pattern' && formatFailed.has(error.instancePath)) continue;
    const issue = toIssue(error);
    if (!issue) continue;
    const text = issueText(issue);
    if (seen.has(text)) continue;
    seen.add(text);
    issues.push(issue);
  }
  return issues;
}

function toIssue(error: ErrorObject): FieldIssue | undefined {
  const field = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    // `if`/`then` failures are explained by the `then` branch's own errors.
    case 'if':
      return undefined;
    // NOTE: a missing or an unexpected property is reported at that property's path, not at its
    // parent's, so a client is told which field to fix ("customerId: is required").
    case 'required':
      return { field: childPath(field, String(params['missingProperty'])), message: 'is required' };
    case 'additionalProperties':
      return { field: childPath(field, String(params['additionalProperty'])), message: 'is not allowed' };
    case 'enum':
      return { field, message: `must be one of: ${listValues(params['allowedValues'])}` };
    case 'const':
      return { field, message: `must be equal to ${JSON.stringify(params['allowedValue'])}` };
    case 'propertyNames':
      return { field, message: `has an invalid property name ${JSON.stringify(params['propertyName'])}` };
    case 'discriminator': {
      const tag = String(params['tag']);
      const tagField = field ? `${field}.${tag}` : tag;
      // A missing tag is already reported by `required`.
      if (params['error'] === 'tag') return undefined;
      return { field: tagField, message: `must be one of: ${listValues(discriminatorValues(error, tag))}` };
    }
    default:
      // Errors inside `propertyNames` point at the object and carry the offending name; the
      // `propertyNames` error that follows names it, so they add nothing.
      if ((error as { propertyName?: string }).propertyName !== undefined) return undefined;
      return { field, message: error.message ?? `is invalid (${error.keyword})` };
  }
}

/** The path of property `name` under `parent` (a path as fieldPath builds it). */
function childPath(parent: string, name: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) return parent ? `${parent}.${name}` : name;
  return `${parent}[${JSON.stringify(name)}]`;
}

function listValues(values: unknown): string {
  return Array.isArray(values) ? values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ') : '';
}

function discriminatorValues(error: ErrorObject, tag: string): unknown[] {
  const parent = error.parentSchema as
    { oneOf?: Array<{ properties?: Record<string, { const?: unknown }> }> } | undefined;
  return (parent?.oneOf ?? []).map((variant) => variant.properties?.[tag]?.const).filter((v) => v !== undefined);
}

/**
 * Ajv reports a failed `anyOf` as every branch's errors plus "must match a schema in anyOf".
 * Keep what helps: when the value has the type of some branch (a string that fails a decimal
 * pattern), that branch's errors; when it matches no branch's type, one line naming the types
 * ("must be string or null").
 */
function resolveAnyOf(errors: readonly ErrorObject[]): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const replaced = new Map<ErrorObject, ErrorObject>();
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const anyOf of anyOfs) {
    if (dropped.has(anyOf)) continue;
    const prefix = `${anyOf.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const error of errors) {
      if (!error.schemaPath.startsWith(prefix)) continue;
      const branch = error.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), error]);
    }
    const isTypeMismatch = (branch: string, branchErrors: ErrorObject[]) =>
      branchErrors.some(
        (e) =>
          e.instancePath === anyOf.instancePath &&
          ['type', 'const', 'enum'].includes(e.keyword) &&
          e.schemaPath === `${prefix}${branch}/${e.keyword}`,
      );
    const matchingType = [...branches].filter(([branch, branchErrors]) => !isTypeMismatch(branch, branchErrors));
    const keep = new Set(matchingType.flatMap(([, branchErrors]) => branchErrors));
    for (const [, branchErrors] of branches) for (const e of branchErrors) if (!keep.has(e)) dropped.add(e);
    if (matchingType.length > 0) {
      dropped.add(anyOf);
    } else {
      const types = [...branches.values()].flatMap((branchErrors) =>
        branchErrors.filter((e) => e.keyword === 'type').map((e) => String((e.params as { type?: unknown }).type)),
      );
      const message =
        types.length > 0 ? `must be ${[...new Set(types)].join(' or ')}` : 'must match one of the allowed shapes';
      replaced.set(anyOf, { ...anyOf, message });
    }
  }
  return errors.filter((e) => !dropped.has(e)).map((e) => replaced.get(e) ?? e);
}
