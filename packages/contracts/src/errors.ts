/**
 * A value broke the contract (an event or body failed its schema). Never retriable: the same
 * bytes fail the same way, so a consumer sends the message to `<topic>.dlq` instead of retrying,
 * and an HTTP adapter answers 400 with `errors`.
 */
export class ContractViolationError extends Error {
  override readonly name = 'ContractViolationError';
  /** Retrying cannot help (the flag consumers classify errors by). */
  readonly retriable = false;
  /** What was wrong, one readable line per problem (`data.amount: must match pattern ...`). */
  readonly errors: readonly string[];

  constructor(errors: readonly string[], what = 'value') {
    super(`invalid ${what}: ${errors.join('; ')}`);
    this.errors = Object.freeze([...errors]);
  }
}
