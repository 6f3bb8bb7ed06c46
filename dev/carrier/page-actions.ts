import { validate, type Reply } from './http';
import { numberChangeSchema, preferenceSchema } from './inspection-api';
import { contactAnchor } from './page';
import { parseAddress } from './runtime';
import type { Carrier, InboundInput } from './types';

/** Form posts from the page: act, then send the browser back to the contact it was looking at. */
export async function pageFormAction(carrier: Carrier, url: URL, form: Record<string, string>): Promise<Reply> {
  const back = (notice: string, anchor?: string): Reply => ({
    status: 303,
    redirect: `/?notice=${encodeURIComponent(notice)}${anchor ? `#${encodeURIComponent(anchor)}` : ''}`,
  });
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (url.pathname === '/ui/reset') {
      carrier.reset();
      return back('Cleared all messages, calls and e-mails.');
    }
    if (url.pathname === '/ui/inbound') {
      const input: InboundInput = { from: form.from ?? '', to: form.to ?? '', channel: form.channel === 'whatsapp' ? 'whatsapp' : 'sms' };
      if (form.button) {
        const button = JSON.parse(form.button) as { payload?: unknown; text?: unknown };
        input.buttonPayload = String(button.payload ?? '');
        input.buttonText = String(button.text ?? '');
      } else {
        input.body = form.body ?? '';
      }
      const result = await carrier.sendInbound(input);
      const what = input.buttonText ? `Tapped “${input.buttonText}”` : `Sent “${input.body}”`;
      const answer = result.status ? `our webhook answered ${result.status}` : 'our webhook could not be reached';
      return back(`${what} as ${input.from}: ${answer}.`, form.anchor || contactAnchor(parseAddress(input.from).number));
    }
    if (url.pathname === '/ui/meta/preferences') {
      const p = validate(preferenceSchema, form);
      const result = await carrier.setMarketingPreference(p.from, p.to, p.value);
      const what = p.value === 'stop' ? 'Stopped marketing messages' : 'Resumed marketing messages';
      return back(`${what} as ${p.from}: our webhook answered ${result.status || 'nothing'}.`, contactAnchor(parseAddress(p.from).number));
    }
    if (segments[1] === 'meta' && segments[2] === 'numbers' && segments.length === 4) {
      const change = validate(numberChangeSchema, { quality: form.quality || undefined, tier: form.tier || undefined });
      const result = await carrier.updateMetaNumber(segments[3], change);
      return back(`Number ${segments[3]} is now ${change.quality ?? ''}${change.tier ?? ''}: our webhook answered ${result.status || 'nothing'}.`);
    }
    if (segments[1] === 'calls' && segments.length === 4) {
      const [, , sid, action] = segments;
      const call =
        action === 'digits'
          ? await carrier.pressKeys(sid, form.digits ?? '')
          : action === 'timeout'
            ? await carrier.letGatherTimeOut(sid)
            : action === 'hangup'
              ? await carrier.hangUp(sid)
              : undefined;
      if (call) {
        const done = action === 'digits' ? `Pressed ${form.digits}` : action === 'timeout' ? 'Let the prompt time out' : 'Hung up';
        return back(`${done}; the call is ${call.status}.`, contactAnchor(call.to));
      }
    }
    if (segments[1] === 'emails' && segments[3] === 'unsubscribe') {
      const result = await carrier.oneClickUnsubscribe(segments[2]);
      return back(`One-click unsubscribe sent; the site answered ${result.status || 'nothing'}.`);
    }
  } catch (err) {
    return back(`That did not work: ${err instanceof Error ? err.message : String(err)}`, form.anchor);
  }
  return back(`Unknown action ${url.pathname}.`);
}
