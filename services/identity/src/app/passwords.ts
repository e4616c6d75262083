// Passwords: bcrypt with the configured cost. Never logged, never on a topic.
import { MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH } from '@usageflow/contracts';
import { commonErrors } from '@usageflow/http';
import bcrypt from 'bcrypt';

/** Hashes a new password after checking the policy (a 400 naming `password` otherwise). */
export async function hashNewPassword(password: string, cost: number): Promise<string> {
  const problem =
    password.length < MIN_PASSWORD_LENGTH
      ? `must be at least ${MIN_PASSWORD_LENGTH} characters`
      : Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES
        ? `must be at most ${MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest)`
        : null;
  if (problem)
    throw commonErrors.VALIDATION_FAILED(`password ${problem}`, { errors: [{ field: 'password', message: problem }] });
  return bcrypt.hash(password, cost);
}

// A hash to compare against when the e-mail is unknown, so the answer takes as long as for a
// known e-mail and does not tell which addresses have accounts.
let decoy: Promise<string> | undefined;

/** Whether `password` matches `hash`; with no hash, spends the same time and answers false. */
export async function verifyPassword(password: string, hash: string | undefined, cost: number): Promise<boolean> {
  if (hash === undefined) {
    decoy ??= bcrypt.hash('decoy password for unknown accounts', cost);
    await bcrypt.compare(password, await decoy);
    return false;
  }
  return bcrypt.compare(password, hash);
}
