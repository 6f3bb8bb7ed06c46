/**
 * How long the links we send keep working. The preference link goes into e-mails and HELP replies;
 * the unsubscribe link into every e-mail (it must outlive the mail in an inbox); the confirmation
 * link only as long as the journey waits, unless the journey says otherwise.
 */
export const PREFERENCES_LINK_DAYS = 180;
export const UNSUBSCRIBE_LINK_DAYS = 365;
export const CONFIRM_LINK_DEFAULT_DAYS = 30;
