import { effectiveWhatsappTier } from '../../domain/whatsapp-tier';

describe('the WhatsApp tier a business sends under', () => {
  it('follows the messaging limit Meta reported', () => {
    expect(effectiveWhatsappTier(250, 'TIER_1K')).toBe(1_000);
    expect(effectiveWhatsappTier(250, 'TIER_10K')).toBe(10_000);
    expect(effectiveWhatsappTier(10_000, 'TIER_250')).toBe(250);
  });

  it('keeps the configured one when Meta reported none, or a limit it does not know', () => {
    expect(effectiveWhatsappTier(250, undefined)).toBe(250);
    expect(effectiveWhatsappTier(2_000, 'TIER_NOT_SET')).toBe(2_000);
  });
});
