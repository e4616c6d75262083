// Exact decimal money for invoices: prices and quantities are decimal strings, multiplied with
// big.js (never JS floating point), and rounded once, half-up, to the currency's minor unit
// (`roundToMinorUnit`). The precise value is kept beside the rounded one for audits.
import { currencyMinorDigits } from '@usageflow/contracts';
import Big from 'big.js';

/** A big.js constructor that never prints exponents (1e-7 stays "0.0000001"). */
const Plain = Big();
Plain.PE = 1e6;
Plain.NE = -1e6;

/** An exact decimal. */
export type Decimal = Big;

/** Parses a contract decimal string ("0.01", "12000"). */
export function decimal(value: string | number): Decimal {
  return new Plain(value);
}

/** The decimal's canonical text: no exponent, no trailing fraction zeros ("2.50" -> "2.5"). */
export function decimalText(value: Decimal): string {
  return new Plain(value).toString();
}

/** max(0, value). */
export function nonNegative(value: Decimal): Decimal {
  return value.lt(0) ? new Plain(0) : value;
}

/**
 * An amount in major units as shown on a line's `preciseAmount`: exact, with at least the
 * currency's minor digits ("20" USD -> "20.00", "2.469134" USD stays, "5" JPY -> "5").
 */
export function preciseAmountText(value: Decimal, currency: string): string {
  const digits = currencyMinorDigits(currency);
  const [whole, fraction = ''] = decimalText(value).split('.');
  const padded = fraction.padEnd(digits, '0');
  return padded ? `${whole}.${padded}` : whole!;
}

/**
 * The one rounding step: an exact amount in major units to integer minor units of `currency`,
 * half-up (2.469134 USD -> 247; 1234.5 JPY -> 1235; 0.0125 KWD -> 13).
 */
export function roundToMinorUnit(value: Decimal, currency: string): number {
  const scaled = value.times(new Plain(10).pow(currencyMinorDigits(currency))).round(0, Big.roundHalfUp);
  const minor = Number(scaled.toString());
  if (!Number.isSafeInteger(minor) || minor < 0) {
    throw new RangeError(`amount ${decimalText(value)} ${currency} is not a billable amount`);
  }
  return minor;
}
