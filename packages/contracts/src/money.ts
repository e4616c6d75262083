// The one rule for the `amount` published beside `amountCents`: the same value in major units,
// derived from the integer minor units by moving the decimal point in the digit string, so no
// floating-point arithmetic is involved (12000 USD cents -> 120, 10003 -> 100.03, 5 JPY -> 5).
import { ContractViolationError } from './errors';

// ISO 4217 currencies whose minor unit is not 1/100. Every other code has 2 minor digits.
const MINOR_DIGITS: Readonly<Record<string, number>> = Object.freeze({
  // no minor unit
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  // thousandths
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  // ten-thousandths
  CLF: 4,
  UYW: 4,
});

/** How many decimal digits the minor unit of `currency` has (ISO 4217): 2, or 0 (JPY), 3 (KWD). */
export function currencyMinorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
}

/**
 * The major-units JSON number of an integer amount of minor units (`amount` beside
 * `amountCents`). Display only; never compute with it.
 */
export function toMajorAmount(minorUnits: number, currency: string): number {
  if (!Number.isSafeInteger(minorUnits) || minorUnits < 0) {
    throw new ContractViolationError([`amountCents: must be a non-negative safe integer, got ${minorUnits}`], 'amount');
  }
  const digits = currencyMinorDigits(currency);
  if (digits === 0) return minorUnits;
  const text = String(minorUnits).padStart(digits + 1, '0');
  return Number(`${text.slice(0, -digits)}.${text.slice(-digits)}`);
}
