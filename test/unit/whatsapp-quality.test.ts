import { qualityPacing, RED_RECHECK_MS } from '../../domain/whatsapp-quality';

describe('campaign pacing by the WhatsApp number quality rating', () => {
  const now = 1_764_600_000_000;

  it('starts the whole batch while the rating is GREEN or unknown', () => {
    expect(qualityPacing('GREEN', 2, 10, now)).toEqual({ start: 10 });
    expect(qualityPacing(undefined, 2, 10, now)).toEqual({ start: 10 });
  });

  it('starts nothing while RED and looks again after the recheck interval', () => {
    expect(qualityPacing('RED', 2, 10, now)).toEqual({ start: 0, holdUntil: now + RED_RECHECK_MS, effect: 'paused' });
  });

  it('starts a 1/factor share of a batch while YELLOW and holds the rest to the next window', () => {
    expect(qualityPacing('YELLOW', 2, 10, now)).toEqual({ start: 5, holdUntil: now + 1_000, effect: 'slowed' });
    expect(qualityPacing('YELLOW', 4, 10, now)).toEqual({ start: 2, holdUntil: now + 1_000, effect: 'slowed' });
  });

  it('slows a batch smaller than the factor to one row every factor-th window', () => {
    const windows = Array.from({ length: 12 }, (_, i) => qualityPacing('YELLOW', 3, 1, now + i * 1_000).start);
    expect(windows.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('leaves the pace alone with a factor of 1', () => {
    expect(qualityPacing('YELLOW', 1, 10, now)).toEqual({ start: 10 });
  });
});
