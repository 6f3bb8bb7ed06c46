/** Which sends the send gate always lets through, and why it refuses the others to an opted-out contact. */
import type { SendInput } from './channel';

export const OPTED_OUT_REASON = 'contact opted out: only the opt-out confirmation and answers to HELP may be sent';
/**
 * Sends the gate lets through to an opted-out contact: the one opt-out confirmation, and the answer
 * to the contact's own HELP, which carriers expect answered always (it names the business and how to
 * opt back in; it asks for nothing).
 */
export const ALWAYS_SENT: ReadonlySet<SendInput['purpose']> = new Set(['optout_confirmation', 'help']);
