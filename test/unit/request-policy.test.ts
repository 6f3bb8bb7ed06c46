import { onlyOneJourneyBegun } from '../../store/queries';
import { requestDeferral, requestWaitsForPolicy } from '../../domain/request-policy';

const night = { start: '21:00', end: '08:00' };
const at = (iso: string) => Date.parse(iso);
const DAY = 86_400_000;

describe('when a journey\'s opt-in request may go', () => {
  test('in the day, with nobody else asking recently, at once', () => {
    expect(requestDeferral({ now: at('2025-01-15T10:00:00Z'), zones: ['Europe/Paris'], quietHours: night, frequencyCapDays: 30 })).toBeUndefined();
    expect(requestDeferral({ now: at('2025-01-15T10:00:00Z'), zones: ['UTC'], quietHours: night, frequencyCapDays: 30, lastOtherRequestAt: at('2024-12-01T10:00:00Z') })).toBeUndefined();
  });

  test('in the contact\'s night, at the end of it in their zone', () => {
    expect(requestDeferral({ now: at('2025-01-15T22:30:00Z'), zones: ['Europe/Paris'], quietHours: night, frequencyCapDays: 0 })).toEqual({ until: at('2025-01-16T07:00:00Z'), reason: 'quiet_hours' });
    expect(requestDeferral({ now: at('2025-01-15T22:30:00Z'), zones: ['America/New_York'], quietHours: night, frequencyCapDays: 0 })).toBeUndefined();
  });

  test('within the cap of another journey\'s request, at the end of the cap', () => {
    const last = at('2025-01-10T12:00:00Z');
    expect(requestDeferral({ now: at('2025-01-15T12:00:00Z'), zones: ['UTC'], quietHours: night, frequencyCapDays: 30, lastOtherRequestAt: last })).toEqual({ until: last + 30 * DAY, reason: 'frequency_cap' });
    expect(requestDeferral({ now: at('2025-01-15T12:00:00Z'), zones: ['UTC'], quietHours: night, frequencyCapDays: 0, lastOtherRequestAt: last })).toBeUndefined();
  });

  test('a cap that ends in the contact\'s night waits for the morning too, and names the cap', () => {
    const last = at('2025-01-10T23:00:00Z');
    expect(requestDeferral({ now: at('2025-01-15T12:00:00Z'), zones: ['UTC'], quietHours: night, frequencyCapDays: 30, lastOtherRequestAt: last })).toEqual({ until: at('2025-02-10T08:00:00Z'), reason: 'frequency_cap' });
  });

  test('zones whose days never overlap are decided by the first one instead of waiting forever', () => {
    const long = { start: '16:00', end: '09:00' };
    const now = at('2025-01-15T08:00:00Z');
    expect(requestDeferral({ now, zones: ['Asia/Tokyo', 'America/Los_Angeles'], quietHours: long, frequencyCapDays: 0 })).toEqual({ until: at('2025-01-16T00:00:00Z'), reason: 'quiet_hours' });
  });

  test('the request answering the contact\'s own act goes at once; its reminders and later steps wait', () => {
    for (const kind of ['web_form', 'preferences_page', 'agent', 'missed_call']) {
      expect(requestWaitsForPolicy(kind, 0, 'request')).toBe(false);
      expect(requestWaitsForPolicy(kind, 0, 'reminder')).toBe(true);
      expect(requestWaitsForPolicy(kind, 1, 'request')).toBe(true);
    }
    for (const kind of [undefined, 'api', 'campaign', 'cli']) expect(requestWaitsForPolicy(kind, 0, 'request')).toBe(true);
  });
});

describe('onlyOneJourneyBegun: when the send may skip looking for other journeys\' requests', () => {
  test('only a counted contact with exactly one journey begun', () => {
    expect(onlyOneJourneyBegun({ journeysCounted: true, journeysBegun: 1 })).toBe(true);
    expect(onlyOneJourneyBegun({ journeysCounted: true, journeysBegun: 2 })).toBe(false);
    // A retried begin counted twice: look.
    expect(onlyOneJourneyBegun({ journeysCounted: true, journeysBegun: 3 })).toBe(false);
    // Created before the count existed, or by an import: its earlier journeys are not counted.
    expect(onlyOneJourneyBegun({ journeysBegun: 1 })).toBe(false);
    expect(onlyOneJourneyBegun({ journeysCounted: null, journeysBegun: 1 })).toBe(false);
    expect(onlyOneJourneyBegun({ journeysCounted: true })).toBe(false);
    expect(onlyOneJourneyBegun(null)).toBe(false);
    expect(onlyOneJourneyBegun(undefined)).toBe(false);
  });
});
