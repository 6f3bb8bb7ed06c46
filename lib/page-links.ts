import { CONFIRM_LINK_DEFAULT_DAYS, PREFERENCES_LINK_DAYS, UNSUBSCRIBE_LINK_DAYS } from '../domain/links';
import { createPageToken } from './tokens';

const DAY_S = 86_400;
const nowS = () => Math.floor(Date.now() / 1000);

/** The signed links we send to contacts (served by api/routes/pages.ts and preferences.ts); the worker and the API build them alike. */
export function pageLinks(publicBaseUrl: string, secret: string) {
  const url = (path: string) => new URL(path, publicBaseUrl).toString();
  return {
    /** One contact's preference page. */
    preferences(businessId: string, contactId: string, validForDays = PREFERENCES_LINK_DAYS): string {
      return url(`/p/${createPageToken(secret, { p: 'preferences', b: businessId, c: contactId, exp: nowS() + validForDays * DAY_S })}`);
    },
    /** Unsubscribe from everything (the button page and RFC 8058 one-click). */
    unsubscribe(businessId: string, contactId: string): string {
      return url(`/u/${createPageToken(secret, { p: 'unsubscribe', b: businessId, c: contactId, exp: nowS() + UNSUBSCRIBE_LINK_DAYS * DAY_S })}`);
    },
    /** The confirmation page of one journey, valid until `validUntilMs` (the journey's deadline) or the default. */
    confirm(businessId: string, contactId: string, journeyId: string, categories: string[], validUntilMs?: number): string {
      const exp = Math.floor((validUntilMs ?? Date.now() + CONFIRM_LINK_DEFAULT_DAYS * DAY_S * 1000) / 1000);
      return url(`/c/${createPageToken(secret, { p: 'confirm', b: businessId, c: contactId, j: journeyId, cats: categories, exp })}`);
    },
  };
}
export type PageLinks = ReturnType<typeof pageLinks>;
