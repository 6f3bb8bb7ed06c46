import { contactZones, isQuiet, isQuietIn, localMinutes, quietEndsAt, quietStartsAt } from '../../domain/quiet-hours';

const night = { start: '21:00', end: '08:00' };
const at = (iso: string) => Date.parse(iso);

describe('quiet hours in the contact\'s local time', () => {
  test('local clock comes from the time zone, with summer time', () => {
    expect(localMinutes(at('2025-01-15T12:00:00Z'), 'Europe/Paris')).toBe(13 * 60);
    expect(localMinutes(at('2025-07-15T12:00:00Z'), 'Europe/Paris')).toBe(14 * 60);
    expect(localMinutes(at('2025-07-15T12:30:00Z'), 'Asia/Kolkata')).toBe(18 * 60);
  });

  test('21:00–08:00 wraps midnight: 20:59 and 08:00 are allowed, 21:00 and 07:59 are quiet', () => {
    expect(isQuietIn(at('2025-01-15T19:59:00Z'), 'Europe/Paris', night)).toBe(false);
    expect(isQuietIn(at('2025-01-15T20:00:00Z'), 'Europe/Paris', night)).toBe(true);
    expect(isQuietIn(at('2025-01-16T06:59:00Z'), 'Europe/Paris', night)).toBe(true);
    expect(isQuietIn(at('2025-01-16T07:00:00Z'), 'Europe/Paris', night)).toBe(false);
  });

  test('quiet hours that do not wrap midnight, and none at all when start equals end', () => {
    const lunch = { start: '12:00', end: '14:00' };
    expect(isQuietIn(at('2025-01-15T12:30:00Z'), 'UTC', lunch)).toBe(true);
    expect(isQuietIn(at('2025-01-15T14:00:00Z'), 'UTC', lunch)).toBe(false);
    expect(isQuietIn(at('2025-01-15T03:00:00Z'), 'UTC', { start: '00:00', end: '00:00' })).toBe(false);
  });

  test('a request held back at 23:30 in Paris may go at 08:00 Paris time', () => {
    const now = at('2025-01-15T22:30:00Z');
    expect(quietEndsAt(now, ['Europe/Paris'], night)).toBe(at('2025-01-16T07:00:00Z'));
  });

  test('the end of quiet hours across a summer-time change lands on local 08:00', () => {
    // Night of 29–30 March 2025: Paris moves from UTC+1 to UTC+2 at 02:00.
    const now = at('2025-03-29T21:00:00Z');
    expect(quietEndsAt(now, ['Europe/Paris'], night)).toBe(at('2025-03-30T06:00:00Z'));
  });

  test('a contact whose number spans several zones is asked only when it is day in all of them', () => {
    const us = contactZones(undefined, 'US', 'UTC');
    expect(us).toContain('America/New_York');
    expect(us).toContain('America/Los_Angeles');
    // 07:30 in Los Angeles is 10:30 in New York: still quiet for the West coast.
    const morning = at('2025-01-15T15:30:00Z');
    expect(isQuiet(morning, us, night)).toBe(true);
    expect(quietEndsAt(morning, us, night)).toBe(at('2025-01-15T16:00:00Z'));
    // 21:00 in New York is 18:00 in Los Angeles: quiet begins with the East coast.
    expect(quietStartsAt(at('2025-01-15T20:00:00Z'), us, night)).toBe(at('2025-01-16T02:00:00Z'));
  });

  test('the zone comes from the row, else the phone\'s country, else the business default', () => {
    expect(contactZones('Asia/Tokyo', 'US', 'UTC')).toEqual(['Asia/Tokyo']);
    expect(contactZones(undefined, 'FR', 'UTC')).toEqual(['Europe/Paris']);
    expect(contactZones(undefined, 'ZZ', 'Europe/Lisbon')).toEqual(['Europe/Lisbon']);
    expect(contactZones(undefined, undefined, 'UTC')).toEqual(['UTC']);
  });

  test('outside quiet hours a request may go at once', () => {
    const noon = at('2025-01-15T11:00:00Z');
    expect(quietEndsAt(noon, ['Europe/Paris'], night)).toBe(noon);
    expect(quietStartsAt(noon, ['Europe/Paris'], night)).toBe(at('2025-01-15T20:00:00Z'));
  });
});

test('the start of quiet hours on an autumn summer-time change lands on local 21:00', () => {
  // 26 October 2025: Paris moves from UTC+2 back to UTC+1 at 03:00.
  expect(quietStartsAt(at('2025-10-25T22:00:00Z'), ['Europe/Paris'], night)).toBe(at('2025-10-26T20:00:00Z'));
});
