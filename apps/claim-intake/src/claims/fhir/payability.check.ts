import { CODE_MAX_LENGTH, CODE_SYSTEM_MAX_LENGTH, MONEY_MAX_MINOR_UNITS } from '@claimchain/wire';
import { formatCents, fromCents, scaledDecimal, toCents } from './exact-decimal';
import { Coding, minorUnits, Reference } from './fhir-r4-datatypes';

/**
 * Can automation pay this claim? What automatic payment needs beyond FHIR R4 (see fhir-claim.request.ts, which runs
 * it beside the R4 structure check): errors read "not payable automatically: …", each at the JSON path it is about.
 */

/** The prefixes of the two kinds of error: the body is not R4, or R4 that automation cannot pay. */
export const NOT_FHIR = 'not valid FHIR R4: ';
const NOT_PAYABLE = 'not payable automatically: ';

export interface PayableMoney {
  value: number;
  currency: string;
  [element: string]: unknown;
}

/** A reference automation can resolve: `Type/id` or an absolute URL, never only an identifier or a contained `#id`. */
export interface LiteralReference extends Reference {
  reference: string;
}

export interface PayableItem {
  sequence: number;
  productOrService: { coding: [Coding & { system: string; code: string }, ...Coding[]]; [element: string]: unknown };
  /** The one date of service: `servicedDate` as sent, or the day of a `servicedPeriod` that starts and ends on it. */
  servicedDate: string;
  quantity: { value: number; [element: string]: unknown };
  unitPrice: PayableMoney;
  net: PayableMoney;
  [element: string]: unknown;
}

export type Json = Record<string, unknown>;
export type Path = (string | number)[];
export interface Issue {
  path: Path;
  message: string;
}

export const objectAt = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const stringAt = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const numberAt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const FULL_DATE = /^\d{4}-\d{2}-\d{2}/;
/** A reference's id is stored (and the provider's indexed with each line): R4's ids are 64 characters at most. */
const REFERENCE_MAX_LENGTH = 256;
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE_REFERENCE = /^[a-z][a-z0-9+.-]*:\S+$/i;

/**
 * What automatic payment needs beyond R4, read from the raw body so it is checked even where other parts of the
 * claim are malformed (those parts are reported by the structure check and skipped here). `items` collects the
 * normalised items that passed.
 */
export class PayabilityCheck {
  readonly issues: Issue[] = [];
  items: PayableItem[] = [];
  totalCents: bigint | undefined;

  constructor(private readonly claim: Json) {}

  run(): void {
    const { claim } = this;
    if (stringAt(claim.status) !== undefined && claim.status !== 'active') {
      this.fail(['status'], `only an active claim is paid; this one is ${String(claim.status)}`);
    }
    if (stringAt(claim.use) !== undefined && claim.use !== 'claim') {
      this.fail(['use'], `only use "claim" is paid; "${String(claim.use)}" asks for a decision, not a payment`);
    }
    if (claim.modifierExtension !== undefined) {
      this.fail(
        ['modifierExtension'],
        'a modifier extension changes what the claim means, and automation cannot read it',
      );
    }
    this.literalReference(['patient'], ['Patient']);
    this.literalReference(['insurer'], ['Organization']);
    this.literalReference(['provider'], ['Organization', 'Practitioner', 'PractitionerRole']);
    this.focalCoverage();
    const currency = this.total() ?? this.firstItemCurrency();
    this.checkItems(currency);
  }

  /** Without a total, the items must still agree on one currency: the first one given. */
  private firstItemCurrency(): string | undefined {
    const items = Array.isArray(this.claim.item) ? this.claim.item : [];
    for (const item of items) {
      for (const money of [objectAt(item)?.unitPrice, objectAt(item)?.net]) {
        const currency = stringAt(objectAt(money)?.currency);
        if (currency !== undefined) return currency;
      }
    }
    return undefined;
  }

  private fail(path: Path, message: string): void {
    this.issues.push({ path, message: NOT_PAYABLE + message });
  }

  private invalid(path: Path, message: string): void {
    this.issues.push({ path, message: NOT_FHIR + message });
  }

  private literalReference(path: Path, types: string[], from: Json = this.claim): void {
    const name = String(path[path.length - 1]);
    const ref = objectAt(from[name]);
    if (from[name] === undefined) {
      this.fail(path, `the ${name} is required to pay a claim`);
      return;
    }
    if (!ref) return;
    const reference = stringAt(ref.reference);
    if (reference === undefined) {
      this.fail(
        [...path, 'reference'],
        `a literal reference like "${types[0]}/123" is required; an identifier or display alone cannot be resolved`,
      );
    } else if (reference.length > REFERENCE_MAX_LENGTH) {
      this.fail([...path, 'reference'], `a reference of at most ${REFERENCE_MAX_LENGTH} characters`);
    } else if (reference.startsWith('#')) {
      this.fail(
        [...path, 'reference'],
        `a contained resource has no identity beyond this claim; reference the ${types[0]} as "${types[0]}/<id>"`,
      );
    } else if (!ABSOLUTE_REFERENCE.test(reference)) {
      const relative = RELATIVE_REFERENCE.exec(reference);
      if (!relative) {
        this.fail([...path, 'reference'], `a literal reference like "${types[0]}/123" or an absolute URL`);
      } else if (!types.includes(relative[1])) {
        this.fail([...path, 'reference'], `must reference a ${types.join(' or ')}, not a ${relative[1]}`);
      }
    }
  }

  private focalCoverage(): void {
    const insurance = Array.isArray(this.claim.insurance) ? this.claim.insurance : [];
    const focal = insurance.flatMap((entry, i) => (objectAt(entry)?.focal === true ? [i] : []));
    const allFlagged = insurance.every((entry) => typeof objectAt(entry)?.focal === 'boolean');
    if (insurance.length > 0 && allFlagged && focal.length !== 1) {
      this.fail(['insurance'], `exactly one insurance is focal (the coverage that pays); found ${focal.length}`);
    }
    if (focal.length === 1) {
      this.literalReference(['insurance', focal[0], 'coverage'], ['Coverage'], objectAt(insurance[focal[0]])!);
    }
  }

  /** The total's currency, which every amount must share. */
  private total(): string | undefined {
    const total = objectAt(this.claim.total);
    if (this.claim.total === undefined) {
      this.fail(['total'], 'the total is required: automation pays a claim whose lines add up to it');
      return undefined;
    }
    if (!total) return undefined;
    this.totalCents = this.money(['total'], total, undefined)?.cents;
    return stringAt(total.currency);
  }

  /** Exact hundredths of a Money, or undefined (after reporting why) if automation cannot use it. */
  private money(path: Path, money: Json, expectedCurrency: string | undefined) {
    const currency = stringAt(money.currency);
    if (money.currency === undefined) {
      this.fail([...path, 'currency'], 'an ISO 4217 currency is required on every amount');
    } else if (currency !== undefined && expectedCurrency !== undefined && currency !== expectedCurrency) {
      const of = this.claim.total === undefined ? 'the first amount' : 'total';
      this.fail([...path, 'currency'], `must be ${expectedCurrency}, the currency of ${of}`);
    }
    const value = numberAt(money.value);
    if (money.value === undefined) {
      this.fail([...path, 'value'], 'an amount is required');
      return undefined;
    }
    if (value === undefined) return undefined;
    const decimals = Math.min(minorUnits(currency ?? ''), 2);
    const cents = toCents(value, decimals);
    if (cents === undefined) {
      this.fail(
        [...path, 'value'],
        decimals === 0
          ? `${value} has decimals, but ${currency} has no minor unit`
          : `${value} has more than ${decimals} decimals; money is paid exactly, in ${currency ?? 'the currency'}'s minor units`,
      );
      return undefined;
    }
    if (cents < 0n) {
      this.fail([...path, 'value'], 'a negative amount is not paid automatically');
      return undefined;
    }
    if (cents > BigInt(MONEY_MAX_MINOR_UNITS)) {
      this.fail([...path, 'value'], `more than ${formatCents(BigInt(MONEY_MAX_MINOR_UNITS))}, the largest amount paid`);
      return undefined;
    }
    return { cents, currency: currency ?? '' };
  }

  private checkItems(currency: string | undefined): void {
    const items = this.claim.item;
    if (items === undefined || (Array.isArray(items) && items.length === 0)) {
      this.fail(['item'], 'at least one item is required: automation pays items');
      return;
    }
    if (!Array.isArray(items)) return;
    const sequences = new Set<unknown>();
    let sum: bigint | undefined = 0n;
    items.forEach((raw, i) => {
      const item = objectAt(raw);
      if (!item) {
        sum = undefined;
        return;
      }
      if (typeof item.sequence === 'number' && sequences.has(item.sequence)) {
        this.invalid(
          ['item', i, 'sequence'],
          `sequence ${item.sequence} is already used by an earlier item; it is unique`,
        );
      }
      sequences.add(item.sequence);
      const payable = this.item(['item', i], item, currency);
      if (payable) this.items.push(payable);
      sum = payable && sum !== undefined ? sum + payable.netCents : undefined;
    });
    if (sum !== undefined && this.totalCents !== undefined && sum !== this.totalCents) {
      this.fail(
        ['total', 'value'],
        `${formatCents(this.totalCents)} is not the sum of the items' net amounts, ${formatCents(sum)}`,
      );
    }
  }

  private item(path: Path, item: Json, currency: string | undefined): (PayableItem & { netCents: bigint }) | undefined {
    const issuesBefore = this.issues.length;
    if (item.modifierExtension !== undefined) {
      this.fail(
        [...path, 'modifierExtension'],
        'a modifier extension changes what the item means; automation cannot read it',
      );
    }
    const coding = this.serviceCoding(path, item);
    const servicedDate = this.serviceDate(path, item);
    const quantity = this.quantity(path, item);
    const amounts = this.amounts(path, item, currency, quantity);
    if (this.issues.length > issuesBefore || !coding || !servicedDate || quantity === undefined || !amounts) {
      return undefined;
    }
    const productOrService = objectAt(item.productOrService)!;
    const [, ...otherCodings] = productOrService.coding as Coding[];
    return {
      ...item,
      sequence: item.sequence as number,
      productOrService: { ...productOrService, coding: [coding, ...otherCodings] },
      servicedDate,
      quantity: { ...objectAt(item.quantity), value: Number(quantity) },
      unitPrice: { ...objectAt(item.unitPrice), value: fromCents(amounts.unitPrice), currency: amounts.currency },
      net: { ...objectAt(item.net), value: fromCents(amounts.net), currency: amounts.currency },
      netCents: amounts.net,
    };
  }

  /** The service is identified by the first coding, which needs both a system and a code. */
  private serviceCoding(path: Path, item: Json): (Coding & { system: string; code: string }) | undefined {
    const concept = objectAt(item.productOrService);
    if (!concept) return undefined;
    const codings = concept.coding;
    if (codings === undefined) {
      this.fail(
        [...path, 'productOrService', 'coding'],
        'a coding with system and code is required to identify the service',
      );
      return undefined;
    }
    const first = Array.isArray(codings) ? objectAt(codings[0]) : undefined;
    if (!first) return undefined;
    const at = [...path, 'productOrService', 'coding', 0];
    if (first.system === undefined) {
      this.fail([...at, 'system'], 'the code system is required to know what the code means');
    }
    if (first.code === undefined) {
      this.fail([...at, 'code'], 'the service code is required');
    }
    const [system, code] = [stringAt(first.system), stringAt(first.code)];
    // A claim line is stored, indexed and matched by its system and code, so both are bounded.
    let fits = true;
    for (const [name, text, max] of [
      ['system', system, CODE_SYSTEM_MAX_LENGTH],
      ['code', code, CODE_MAX_LENGTH],
    ] as const) {
      if (text !== undefined && text.length > max) {
        this.fail([...at, name], `a ${name} of at most ${max} characters identifies the service`);
        fits = false;
      }
    }
    return fits && system !== undefined && code !== undefined ? { ...first, system, code } : undefined;
  }

  /**
   * One calendar date per item, because the provider confirms each treatment for a date. A period is accepted when
   * it starts and ends on the same day; a longer one has to be claimed as one item per day.
   */
  private serviceDate(path: Path, item: Json): string | undefined {
    const date = stringAt(item.servicedDate);
    if (item.servicedDate !== undefined && item.servicedPeriod !== undefined) return undefined;
    if (date !== undefined) {
      if (FULL_DATE.test(date)) return date;
      this.fail([...path, 'servicedDate'], `${date} is not a full date; automation needs the day (YYYY-MM-DD)`);
      return undefined;
    }
    const period = objectAt(item.servicedPeriod);
    if (item.servicedPeriod === undefined) {
      this.fail(
        [...path, 'servicedDate'],
        'the date of service is required (servicedDate, or a one-day servicedPeriod)',
      );
      return undefined;
    }
    if (!period) return undefined;
    const [start, end] = [stringAt(period.start), stringAt(period.end)];
    const at = [...path, 'servicedPeriod'];
    if (start === undefined || end === undefined) {
      if (period.start === undefined || period.end === undefined) {
        this.fail(at, 'an open period has no date of service; give servicedDate or both start and end');
      }
      return undefined;
    }
    if (!FULL_DATE.test(start) || !FULL_DATE.test(end)) {
      this.fail(at, 'a period of months or years has no date of service; give the day (YYYY-MM-DD)');
      return undefined;
    }
    const [startDay, endDay] = [start.slice(0, 10), end.slice(0, 10)];
    if (startDay !== endDay) {
      this.fail(
        at,
        `${startDay} to ${endDay} spans several days; each treatment is confirmed for one date, so claim one item per day`,
      );
      return undefined;
    }
    return startDay;
  }

  private quantity(path: Path, item: Json): bigint | undefined {
    const quantity = objectAt(item.quantity);
    if (item.quantity === undefined) {
      this.fail([...path, 'quantity'], 'the quantity is required: net = unitPrice × quantity × factor');
      return undefined;
    }
    if (!quantity) return undefined;
    const value = numberAt(quantity.value);
    if (quantity.value === undefined) {
      this.fail([...path, 'quantity', 'value'], 'the number of units is required');
    } else if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
      this.fail([...path, 'quantity', 'value'], `${value} is not a whole number of units (1 or more)`);
    } else if (value !== undefined) {
      return BigInt(value);
    }
    return undefined;
  }

  /** unitPrice and net in exact cents, the missing one derived: net = unitPrice × quantity × factor. */
  private amounts(path: Path, item: Json, currency: string | undefined, quantity: bigint | undefined) {
    const [unitPriceJson, netJson] = [objectAt(item.unitPrice), objectAt(item.net)];
    if (item.unitPrice === undefined && item.net === undefined) {
      this.fail([...path, 'net'], 'a net amount (or a unitPrice to derive it from) is required');
      return undefined;
    }
    const unitPrice = unitPriceJson && this.money([...path, 'unitPrice'], unitPriceJson, currency);
    const net = netJson && this.money([...path, 'net'], netJson, currency);
    const factor = numberAt(item.factor);
    if (factor !== undefined && factor <= 0) {
      this.fail([...path, 'factor'], `a factor of ${factor} is not paid automatically; it is above 0`);
      return undefined;
    }
    if (quantity === undefined || (unitPriceJson && !unitPrice) || (netJson && !net)) return undefined;
    if (item.factor !== undefined && factor === undefined) return undefined;
    const { digits: factorDigits, scale: factorScale } = scaledDecimal(factor ?? 1);
    const divisor = 10n ** BigInt(factorScale);
    // In hundredths × 10^factorScale, so that no step divides.
    const product = unitPrice ? unitPrice.cents * quantity * factorDigits : undefined;
    const smallest = 10n ** BigInt(2 - Math.min(minorUnits(currency ?? ''), 2));
    if (unitPrice && net) {
      if (product !== net.cents * divisor) {
        this.fail(
          [...path, 'net', 'value'],
          `${formatCents(net.cents)} is not unitPrice × quantity × factor = ${exact(product!, factorScale + 2)}`,
        );
        return undefined;
      }
      return { unitPrice: unitPrice.cents, net: net.cents, currency: net.currency };
    }
    if (unitPrice) {
      if (product! % (divisor * smallest) !== 0n) {
        this.fail(
          [...path, 'net'],
          `unitPrice × quantity × factor = ${exact(product!, factorScale + 2)} is not a whole amount of money; give net`,
        );
        return undefined;
      }
      return { unitPrice: unitPrice.cents, net: product! / divisor, currency: unitPrice.currency };
    }
    const denominator = quantity * factorDigits;
    if ((net!.cents * divisor) % (denominator * smallest) !== 0n) {
      this.fail(
        [...path, 'unitPrice'],
        `net ÷ (quantity × factor) = ${formatCents(net!.cents)} ÷ ${factor === undefined ? quantity : `(${quantity} × ${factor})`} ` +
          'is not a whole amount of money; give unitPrice',
      );
      return undefined;
    }
    return { unitPrice: (net!.cents * divisor) / denominator, net: net!.cents, currency: net!.currency };
  }
}

/** `digits` × 10^-scale written out: 14035n, 3 → "14.035". */
function exact(digits: bigint, scale: number): string {
  const text = digits.toString().padStart(scale + 1, '0');
  const whole = text.slice(0, text.length - scale);
  const fraction = text.slice(text.length - scale).replace(/0+$/, '');
  return fraction.length > 0 ? `${whole}.${fraction.padEnd(2, '0')}` : `${whole}.00`;
}
