import { optInRate, startedPerSecond } from '../../domain/campaign';
import { allowance, batchGroups, consume, consumeLaunches, launchesOf, newPacer, pacingLimitsFor, pacingWindow, rowPageSize, type PacingLimits, type PacerState } from '../../domain/campaign-pacing';
import { parseBusinesses } from '../../domain/business';
import demo from '../../config/businesses.demo.json';

/** Drives the pacer like the campaign workflow does, on a simulated clock; returns the start times. */
function simulate(limits: PacingLimits, rows: number, startAt = 1_700_000_000_000): number[] {
  let state: PacerState = newPacer();
  let now = startAt;
  const starts: number[] = [];
  while (starts.length < rows) {
    const slot = allowance(state, limits, now);
    if (slot.allowed === 0) {
      now += slot.waitMs;
      continue;
    }
    const n = Math.min(slot.allowed, rows - starts.length);
    for (let k = 0; k < n; k++) starts.push(now);
    state = consume(state, limits, now, n);
    now += 7; // the workflow's next turn comes a few ms later
  }
  return starts;
}

function busiest(starts: number[], windowMs: number): number {
  return Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + windowMs).length));
}

describe('pacing', () => {
  test('SMS at 1 message/s: one journey per second, never two within a second', () => {
    const starts = simulate({ perSecond: 1 }, 10);
    expect(starts[9] - starts[0]).toBeGreaterThanOrEqual(9_000);
    expect(busiest(starts, 1000)).toBe(1);
  });

  test('WhatsApp at 80/s: 80 per window of one second', () => {
    const starts = simulate({ perSecond: 80 }, 400);
    expect(busiest(starts, 999)).toBe(80);
    expect(starts[399] - starts[0]).toBeGreaterThanOrEqual(4_000);
    expect(starts[399] - starts[0]).toBeLessThan(4_200);
  });

  test('a rate below one per second spaces journeys 1/rate seconds apart', () => {
    expect(pacingWindow({ perSecond: 0.25 })).toEqual({ windowMs: 4000, perWindow: 1 });
    const starts = simulate({ perSecond: 0.25 }, 4);
    expect(starts.slice(1).map((t, i) => t - starts[i])).toEqual([4000, 4000, 4000]);
  });

  test('the WhatsApp tier caps new contacts per 24 hours; the next day starts the rest', () => {
    const starts = simulate({ perSecond: 80, dailyNewContacts: 250 }, 300);
    const first = starts[0];
    expect(starts.filter((t) => t < first + 86_400_000)).toHaveLength(250);
    expect(starts[250] - first).toBeGreaterThanOrEqual(86_400_000);
    expect(starts[250] - first).toBeLessThan(86_400_000 + 1_000);
  });

  test('allowance tells how long to wait when the window is used up', () => {
    const limits = { perSecond: 2 };
    let s = consume(newPacer(), limits, 10_000, 2);
    expect(allowance(s, limits, 10_400)).toEqual({ allowed: 0, waitMs: 600 });
    expect(allowance(s, limits, 11_000)).toEqual({ allowed: 2, waitMs: 0 });
    s = consume(s, limits, 11_000, 1);
    expect(allowance(s, limits, 11_100)).toEqual({ allowed: 1, waitMs: 0 });
  });

  test('rates come from the business settings and the first step of the plan', () => {
    const [acme] = parseBusinesses(demo);
    expect(acme.sending).toEqual({ smsPerSecond: 1, whatsappPerSecond: 80, whatsappTier: 250, emailPerSecond: 10, callsPerSecond: 1, whatsappYellowSlowdown: 2 });
    // The demo asks at any hour (so do the tests built on it); a business that leaves quietHours out gets the night off.
    expect(acme.quietHours).toEqual({ start: '00:00', end: '00:00', defaultTimezone: 'UTC' });
    const [unset] = parseBusinesses({ businesses: [{ ...demo.businesses[0], quietHours: undefined }] });
    expect(unset.quietHours).toEqual({ start: '21:00', end: '08:00', defaultTimezone: 'UTC' });
    expect(pacingLimitsFor(acme, ['sms', 'email'])).toEqual({ perSecond: 1 });
    expect(pacingLimitsFor(acme, ['whatsapp'])).toEqual({ perSecond: 80, dailyNewContacts: 250 });
    expect(pacingLimitsFor(acme, ['sms', 'whatsapp'])).toEqual({ perSecond: 1, dailyNewContacts: 250 });
    expect(pacingLimitsFor(acme, ['email'])).toEqual({ perSecond: 10 });
  });

  test('a page of rows holds about ten seconds of sending', () => {
    expect(rowPageSize({ perSecond: 1 })).toBe(20);
    expect(rowPageSize({ perSecond: 10 })).toBe(100);
    expect(rowPageSize({ perSecond: 80 })).toBe(500);
  });
});

/**
 * Drives the pacer as the campaign workflow does with batches over several windows: each batch's
 * activity begins `dispatchMs` after the workflow planned it, starts its groups a window apart, and
 * returns `startMs` after its last group began. Returns the groups' start times, one per row.
 */
function simulateBatches(limits: PacingLimits, rows: number, dispatchMs: number, startMs: number, startAt = 1_700_000_000_000): number[] {
  let state: PacerState = newPacer();
  let now = startAt;
  const starts: number[] = [];
  while (starts.length < rows) {
    const plan = batchGroups(state, limits, now);
    if (plan.groups.length === 0) {
      now += allowance(state, limits, now).waitMs;
      continue;
    }
    const launches: Array<{ at: number; n: number }> = [];
    const begun = now + dispatchMs;
    plan.groups.forEach((size, i) => {
      const n = Math.min(size, rows - starts.length);
      if (n <= 0) return;
      const at = begun + i * plan.everyMs;
      for (let k = 0; k < n; k++) starts.push(at);
      launches.push({ at, n });
    });
    state = consumeLaunches(state, limits, launches);
    now = launches[launches.length - 1].at + startMs;
  }
  return starts;
}

describe('batches over several windows', () => {
  test('20/s with starts that take 1.7 s: never more than 20 within a second, and near the rate', () => {
    const starts = simulateBatches({ perSecond: 20 }, 1000, 50, 1_700);
    expect(busiest(starts, 999)).toBe(20);
    const perSecond = 1000 / ((starts[999] - starts[0]) / 1000);
    // One batch per window managed 20 per 1.75 s here (11.4/s); three windows per batch, 60 per 3.75 s.
    expect(perSecond).toBeGreaterThan(15.5);
    expect(perSecond).toBeLessThanOrEqual(20);
  });

  test('a fresh window plans the span: three groups of a window each, a window apart', () => {
    expect(batchGroups(newPacer(), { perSecond: 20 }, 1_700_000_000_000)).toEqual({ groups: [20, 20, 20], everyMs: 1000 });
    expect(batchGroups(newPacer(), { perSecond: 2.5 }, 1_700_000_000_000)).toEqual({ groups: [2, 2, 2], everyMs: 1000 });
    expect(batchGroups(newPacer(), { perSecond: 0.5 }, 1_700_000_000_000)).toEqual({ groups: [1, 1], everyMs: 2000 });
  });

  test('a window partly used, or longer than the span, gives one group; the day tier caps the span', () => {
    const now = 1_700_000_000_000;
    expect(batchGroups(consume(newPacer(), { perSecond: 20 }, now - 300, 5), { perSecond: 20 }, now)).toEqual({ groups: [15], everyMs: 1000 });
    expect(batchGroups(consume(newPacer(), { perSecond: 20 }, now - 300, 20), { perSecond: 20 }, now)).toEqual({ groups: [], everyMs: 1000 });
    expect(batchGroups(newPacer(), { perSecond: 0.1 }, now)).toEqual({ groups: [1], everyMs: 10_000 });
    expect(batchGroups(newPacer(), { perSecond: 0.4 }, now)).toEqual({ groups: [1], everyMs: 2_500 });
    expect(batchGroups(newPacer(), { perSecond: 20, dailyNewContacts: 45 }, now)).toEqual({ groups: [20, 20, 5], everyMs: 1000 });
    const dayUsed = consume(newPacer(), { perSecond: 20, dailyNewContacts: 45 }, now - 5_000, 40);
    expect(batchGroups(dayUsed, { perSecond: 20, dailyNewContacts: 45 }, now)).toEqual({ groups: [5], everyMs: 1000 });
  });

  test('the day tier holds across batches: 30 a day at 20/s starts 30, then waits for the next day', () => {
    const starts = simulateBatches({ perSecond: 20, dailyNewContacts: 30 }, 40, 50, 1_700);
    expect(starts.slice(0, 30).every((t) => t - starts[0] < 2_000)).toBe(true);
    expect(starts[30] - starts[0]).toBeGreaterThanOrEqual(86_400_000);
  });

  test('launches are counted in order of time, whatever order they come in', () => {
    const now = 1_700_000_000_000;
    const state = consumeLaunches(newPacer(), { perSecond: 20 }, [{ at: now + 2000, n: 7 }, { at: now, n: 20 }, { at: now + 1000, n: 20 }]);
    expect(state).toMatchObject({ windowStartedAt: now + 2000, startedInWindow: 7, startedInDay: 47, dayStartedAt: now });
  });

  test("a batch's launches are its started rows grouped by when their group began", () => {
    const now = 1_700_000_000_000;
    const results = [
      { journeyId: 'a', launchedAt: now },
      { journeyId: 'b', launchedAt: now },
      { launchedAt: now, reason: 'journey_already_running' },
      { journeyId: 'c', launchedAt: now + 1000 },
      { journeyId: 'd' },
    ];
    expect(launchesOf(results)).toEqual([
      { at: now, n: 2 },
      { at: now + 1000, n: 1 },
    ]);
  });
});

describe('figures', () => {
  test('opt-in rate counts journeys that ended', () => {
    expect(optInRate({ active: 10, confirmed: 0, declined: 0, expired: 0, opted_out: 0, cancelled: 0 })).toBe(0);
    expect(optInRate({ active: 10, confirmed: 3, declined: 1, expired: 0, opted_out: 0, cancelled: 0 })).toBe(0.75);
  });
  test('started per second over the span of starts', () => {
    expect(startedPerSecond(1, 1000, 1000)).toBe(0);
    expect(startedPerSecond(11, 0 + 1, 10_001)).toBe(1);
  });
});
