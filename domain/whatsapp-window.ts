/**
 * WhatsApp's customer-service window: for 24 hours after the contact's last message to the business,
 * the business may write freely (session messages, no template, no tier). Outside it, only approved
 * templates, and a new conversation counts against the number's tier.
 */
export const SERVICE_WINDOW_MS = 24 * 3_600_000;

/** True while the window opened by the contact's last WhatsApp message is still open at `at`. */
export function inServiceWindow(lastWhatsappInboundAt: Date | string | null | undefined, at = Date.now()): boolean {
  if (!lastWhatsappInboundAt) return false;
  return at - new Date(lastWhatsappInboundAt).getTime() < SERVICE_WINDOW_MS;
}
