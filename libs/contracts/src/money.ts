import { z } from 'zod';

/**
 * Money on the wire is a decimal string with at most two fraction digits ("120.50"), never a float, and an ISO 4217
 * code travels beside it. Arithmetic happens in services with decimal.js or integer minor units.
 */
export const MoneyAmount = z.string().regex(/^(0|[1-9]\d{0,14})(\.\d{1,2})?$/, 'a decimal amount like "120.50"');
export const CurrencyCode = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code like "EUR"');
export const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');
export const CodingRef = z.object({ system: z.string().min(1), code: z.string().min(1) });
