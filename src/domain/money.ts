/**
 * Reference rates to Kenyan shillings, used to compare amounts across currencies when scoring.
 * Approximate and fixed on purpose: the model needs a common scale, not accounting precision.
 */
export const kesPerUnit: Record<string, number> = {
  KES: 1,
  UGX: 0.035,
  TZS: 0.05,
  RWF: 0.1,
  USD: 130,
  EUR: 140,
  GBP: 165,
  AED: 35,
  ZAR: 7,
};

/** The currency a transaction made in each simulated country uses. */
export const currencyOfCountry: Record<string, string> = {
  KE: 'KES',
  UG: 'UGX',
  TZ: 'TZS',
  RW: 'RWF',
  US: 'USD',
  DE: 'EUR',
  GB: 'GBP',
  AE: 'AED',
  ZA: 'ZAR',
};

export const countries = Object.keys(currencyOfCountry);

/** An amount in KES; an unknown currency counts at par, so it can never hide a large amount. */
export function toKes(amount: number, currency: string): number {
  return amount * (kesPerUnit[currency] ?? 1);
}

export function fromKes(amountKes: number, currency: string): number {
  return Math.max(0.01, Math.round((amountKes / (kesPerUnit[currency] ?? 1)) * 100) / 100);
}

/** The baseline the model must beat: flag every transaction at or above this amount (KES). */
export const DEFAULT_RULE_AMOUNT_KES = 50_000;
