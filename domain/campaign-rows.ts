import type { Business } from './business';
import type { CsvColumn, SkipReason } from './campaign';
import { contactZones, isValidTimeZone } from './quiet-hours';
import { normalizePhone } from './phone';

/** Raw contact fields of one row, as strings, before any check. */
export interface RawRow extends Partial<Record<CsvColumn, string>> {
  /** Set when a CSV line has more fields than the header has columns. */
  fieldCount?: number;
}

const localePattern = /^[a-z]{2}([-_][A-Za-z]{2})?$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface CheckedRowFields {
  phone: string;
  email?: string;
  locale?: string;
  timezone?: string;
  name?: string;
  /** The zones quiet hours are checked in (row's zone, else the phone's country's, else the business default). */
  zones: string[];
}

export type RowFieldCheck = { ok: true; fields: CheckedRowFields } | { ok: false; reason: SkipReason; detail: string };

/** The rules one row's own fields must meet; what the store knows of the contact is checked later. */
export function checkRowFields(r: RawRow, business: Business, planUsesEmail: boolean): RowFieldCheck {
  const skip = (reason: SkipReason, detail: string): RowFieldCheck => ({ ok: false, reason, detail });
  if (r.fieldCount !== undefined) return skip('invalid_field', `row has ${r.fieldCount} fields, more than the header's columns`);
  const phone = normalizePhone(r.phone ?? '');
  if (!phone.ok) return skip('invalid_phone', `phone ${phone.rule}`);
  if (r.email !== undefined && !emailPattern.test(r.email)) return skip('invalid_field', 'email: must be an e-mail address');
  if (planUsesEmail && r.email === undefined) return skip('invalid_field', 'email: is required when the plan uses the email channel');
  if (r.locale !== undefined && !localePattern.test(r.locale)) return skip('invalid_field', 'locale: must be a locale such as "en" or "pt-BR"');
  if (r.timezone !== undefined && !isValidTimeZone(r.timezone)) return skip('invalid_field', 'timezone: must be an IANA time zone such as "Europe/Paris"');
  if (r.name !== undefined && r.name.length > 120) return skip('invalid_field', 'name: must be at most 120 characters');
  return {
    ok: true,
    fields: { phone: phone.e164, email: r.email, locale: r.locale, timezone: r.timezone, name: r.name, zones: contactZones(r.timezone, phone.country, business.quietHours.defaultTimezone) },
  };
}
