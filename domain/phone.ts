import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type PhoneResult = { ok: true; e164: string; country?: string } | { ok: false; rule: string };

/** Normalises a phone number to E.164; a number without a country prefix needs a default country. */
export function normalizePhone(input: string, defaultCountry?: string): PhoneResult {
  const raw = input.trim().replace(/^whatsapp:/i, '');
  if (raw.length === 0) return { ok: false, rule: 'must not be empty' };
  if (raw.length > 32) return { ok: false, rule: 'must be at most 32 characters' };
  if (!/^[+\d\s().-]+$/.test(raw)) return { ok: false, rule: 'may contain only digits, spaces, +, -, ( and )' };
  const country = defaultCountry?.toUpperCase() as CountryCode | undefined;
  if (!raw.startsWith('+') && !raw.startsWith('00') && !country) {
    return { ok: false, rule: 'must start with + and the country code (E.164), e.g. +14155550100' };
  }
  const parsed = parsePhoneNumberFromString(raw.replace(/^00/, '+'), country);
  if (!parsed) return { ok: false, rule: 'is not a phone number' };
  if (!parsed.isPossible()) return { ok: false, rule: 'has the wrong number of digits for its country' };
  if (!parsed.isValid()) return { ok: false, rule: 'is not a valid number for its country' };
  const type = parsed.getType();
  if (type === 'FIXED_LINE' || type === 'PREMIUM_RATE' || type === 'SHARED_COST' || type === 'VOICEMAIL' || type === 'PAGER') {
    return { ok: false, rule: `is a ${type.toLowerCase().replace('_', ' ')} number, which cannot receive WhatsApp messages` };
  }
  return { ok: true, e164: parsed.number, country: parsed.country };
}

/** Masks a phone number for logs: keeps the country code and the last two digits. */
export function maskPhone(e164: string): string {
  return e164.length <= 6 ? '***' : `${e164.slice(0, 3)}${'*'.repeat(e164.length - 5)}${e164.slice(-2)}`;
}
