// Login brute-force limits. Failed logins are counted per subject (the e-mail, and the client
// address) in fixed windows; a subject over its limit is refused before the password is checked,
// so guessing costs the attacker the window, not us a bcrypt.

export interface LoginLimits {
  windowMs: number;
  maxFailuresPerEmail: number;
  maxFailuresPerAddress: number;
}

/** The start of the fixed window holding `now`. */
export function windowStart(now: Date, windowMs: number): Date {
  return new Date(Math.floor(now.getTime() / windowMs) * windowMs);
}

/** Seconds until the window holding `now` ends (Retry-After), at least 1. */
export function retryAfterSeconds(now: Date, windowMs: number): number {
  const end = windowStart(now, windowMs).getTime() + windowMs;
  return Math.max(1, Math.ceil((end - now.getTime()) / 1000));
}

/** Whether failures counted so far in this window block another attempt. */
export function isBlocked(failures: { email: number; address: number }, limits: LoginLimits): boolean {
  return failures.email >= limits.maxFailuresPerEmail || failures.address >= limits.maxFailuresPerAddress;
}
