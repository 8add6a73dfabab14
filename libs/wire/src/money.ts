import { z } from 'zod';

/**
 * The largest amount the system handles, in minor units: 9,999,999,999.99. FHIR carries amounts as JSON numbers
 * (doubles); a decimal of at most 15 significant digits survives the trip through a double exactly, so every
 * amount up to this one reads and prints the same on every path (above 2^53 minor units, 90071992547409.91 was
 * validated as one amount and announced as another). Far beyond any health claim: larger ones are refused.
 */
export const MONEY_MAX_MINOR_UNITS = 999_999_999_999;

/**
 * Money on the wire is a decimal string with at most two fraction digits ("120.50"), never a float, and an ISO 4217
 * code travels beside it; at most MONEY_MAX_MINOR_UNITS. Arithmetic happens in services with decimal.js or integer
 * minor units.
 */
export const MoneyAmount = z
  .string()
  .regex(/^(0|[1-9]\d{0,9})(\.\d{1,2})?$/, 'a decimal amount like "120.50", at most 9999999999.99');
export const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code like "EUR"');

/**
 * Whether year-month-day is a day of the (proleptic Gregorian) calendar that Postgres' date type holds: 2026-02-30
 * and year 0 are not (Postgres refuses both, which was a 500 wherever a date reached it unchecked).
 */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return year >= 1 && days !== undefined && day >= 1 && day <= days;
}

export const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine(
    (date) => isCalendarDate(+date.slice(0, 4), +date.slice(5, 7), +date.slice(8, 10)),
    'a day that exists in the calendar',
  );
export const CodingRef = z.object({ system: z.string().min(1), code: z.string().min(1) });

/**
 * The longest code system and service code the services' APIs accept: a claim line is stored and indexed by both
 * (with its provider and patient), and a Postgres index row holds at most 2,704 bytes.
 */
export const CODE_SYSTEM_MAX_LENGTH = 200;
export const CODE_MAX_LENGTH = 100;
