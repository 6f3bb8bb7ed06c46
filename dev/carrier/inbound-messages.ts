import { CarrierUsageError } from './errors';
import { segmentsOf, type Messaging } from './messaging';
import { API_VERSION, type CarrierRuntime, formatAddress, isE164, parseAddress, twilioSid } from './runtime';
import { parseTwiml, textOf } from './twiml';
import type { CarrierMessage, InboundInput, InboundResult } from './types';

/** The contact texts our number: the message is kept, then posted to our API's messaging webhook as Twilio does. */
export async function receiveInbound(runtime: CarrierRuntime, messaging: Messaging, input: InboundInput): Promise<InboundResult> {
  const from = parseAddress(input.from ?? '');
  const to = parseAddress(input.to ?? '');
  if (!isE164(from.number)) throw new CarrierUsageError(400, `from must be an E.164 number, got ${JSON.stringify(input.from)}`);
  if (!isE164(to.number)) throw new CarrierUsageError(400, `to must be an E.164 number, got ${JSON.stringify(input.to)}`);
  const channel = input.channel ?? (from.channel === 'whatsapp' || to.channel === 'whatsapp' ? 'whatsapp' : 'sms');
  const url = runtime.requireInboundUrl();
  const isButton = channel === 'whatsapp' && Boolean(input.buttonPayload || input.buttonText);
  const body = input.body ?? (isButton ? (input.buttonText ?? input.buttonPayload ?? '') : '');
  const now = new Date().toISOString();
  const message: CarrierMessage = {
    sid: twilioSid('SM'),
    accountSid: runtime.options.accountSid,
    direction: 'inbound',
    channel,
    from: formatAddress(channel, from.number),
    to: formatAddress(channel, to.number),
    contact: from.number,
    sender: to.number,
    body,
    contentSid: null,
    contentVariables: null,
    renderedText: body,
    buttons: [],
    buttonPayload: isButton ? (input.buttonPayload ?? input.buttonText ?? null) : null,
    buttonText: isButton ? (input.buttonText ?? input.buttonPayload ?? null) : null,
    numSegments: segmentsOf(body),
    status: 'received',
    errorCode: null,
    errorMessage: null,
    statusCallback: null,
    statusHistory: [{ status: 'received', at: now, errorCode: null }],
    callbacks: [],
    webhook: null,
    createdAt: now,
    updatedAt: now,
  };
  messaging.add(message);
  if (channel === 'whatsapp') messaging.openWindow(from.number, to.number);

  const params: Record<string, string> = {
    MessageSid: message.sid,
    SmsMessageSid: message.sid,
    SmsSid: message.sid,
    AccountSid: message.accountSid,
    From: message.from,
    To: message.to,
    Body: body,
    NumMedia: '0',
    NumSegments: String(message.numSegments),
    SmsStatus: 'received',
    ApiVersion: API_VERSION,
  };
  if (channel === 'whatsapp') {
    params.ProfileName = input.profileName ?? 'Dev Contact';
    params.WaId = from.number.slice(1);
    params.MessageType = isButton ? 'button' : 'text';
    if (isButton) {
      params.ButtonPayload = message.buttonPayload ?? '';
      params.ButtonText = message.buttonText ?? '';
    }
  }
  const { response, delivery } = await runtime.post('POST', url, params);
  message.webhook = delivery;
  if (response.status >= 200 && response.status < 300) recordTwimlReplies(messaging, message, response.body);
  return { messageSid: message.sid, status: response.status, responseBody: response.body, connection: response.connection };
}

/** Twilio sends the `<Message>` verbs of a webhook's TwiML answer back to the contact. */
function recordTwimlReplies(messaging: Messaging, inbound: CarrierMessage, responseBody: string): void {
  if (!responseBody.trimStart().startsWith('<')) return;
  let verbs;
  try {
    verbs = parseTwiml(responseBody);
  } catch {
    return;
  }
  for (const verb of verbs.filter((v) => v.name === 'Message')) {
    const now = new Date().toISOString();
    const text = textOf(verb);
    const reply: CarrierMessage = {
      ...structuredClone(inbound),
      sid: twilioSid('SM'),
      direction: 'outbound-reply',
      from: inbound.to,
      to: inbound.from,
      body: text,
      renderedText: text,
      buttonPayload: null,
      buttonText: null,
      numSegments: segmentsOf(text),
      status: 'delivered',
      statusHistory: [{ status: 'delivered', at: now, errorCode: null }],
      webhook: null,
      createdAt: now,
      updatedAt: now,
    };
    messaging.add(reply);
  }
}
