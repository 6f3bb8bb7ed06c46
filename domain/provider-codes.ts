/** Twilio error codes that mean the recipient unsubscribed at the carrier (texted STOP to it): an opt-out with the provider as source. */
export const CARRIER_UNSUBSCRIBED_CODES: ReadonlySet<number> = new Set([21610]);
