/** Twilio's error catalogue, as far as the carrier imitates it, and its JSON error shape. */

const messages: Record<number, string> = {
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'An internal server error has occurred',
  20503: 'Service unavailable',
  21201: "No 'To' number is specified",
  21205: 'Url parameter is required',
  21211: "Invalid 'To' Phone Number",
  21212: "Invalid 'From' Phone Number",
  21213: "No 'From' number is specified",
  21408: 'Permission to send an SMS has not been enabled for the region indicated by the To number',
  21602: 'Message body is required.',
  21603: "A 'From' phone number is required.",
  21604: "A 'To' phone number is required.",
  21610: 'Attempt to send to unsubscribed recipient',
  21612: "The 'To' phone number is not currently reachable via SMS",
  21614: "'To' number is not a valid mobile number",
  21617: 'The concatenated message body exceeds the 1600 character limit.',
  21656: 'The ContentVariables Parameter is invalid.',
  21910: 'Invalid From and To pair. From and To should be of the same channel.',
  30003: 'Unreachable destination handset',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
  63016:
    'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
  11200: 'HTTP retrieval failure',
  12100: 'Document parse failure',
};

export function twilioErrorMessage(code: number): string {
  return messages[code] ?? `Error ${code}`;
}

/** An API request Twilio would refuse; rendered with Twilio's exact JSON error fields. */
export class TwilioApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message?: string,
  ) {
    super(message ?? twilioErrorMessage(code));
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.httpStatus,
    };
    if (this.code === 20003) body.detail = 'Your AccountSid or AuthToken was incorrect.';
    return body;
  }
}

/** A misuse of the carrier's own test API (unknown call, call not at a Gather, ...). */
export class CarrierUsageError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}
