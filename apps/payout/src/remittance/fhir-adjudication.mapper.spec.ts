import { fhirMoney } from './fhir-adjudication.mapper';

describe(fhirMoney.name, () => {
  it('turns a decimal string into the JSON number that prints as the same amount', () => {
    expect(fhirMoney('96.00', 'EUR')).toEqual({ value: 96, currency: 'EUR' });
    expect(fhirMoney('0.10', 'EUR').value).toBe(0.1);
    expect(fhirMoney('9999999999999.99', 'EUR').value).toBe(9999999999999.99);
  });

  it('refuses an amount no JSON number can carry exactly rather than rounding it', () => {
    expect(() => fhirMoney('999999999999999.99', 'EUR')).toThrow(RangeError);
  });
});
