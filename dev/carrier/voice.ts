import { CarrierUsageError, TwilioApiError, twilioErrorMessage } from './errors';
import { API_VERSION, CarrierRuntime, FormParams, all, first, isE164, parseAddress, rfc2822, twilioSid } from './runtime';
import { TwimlParseError, XmlElement, elementsOf, parseTwiml, textOf } from './twiml';
import type { CallFilter, CallStatus, CarrierCall, GatherPrompt, TranscriptKind } from './types';

const TERMINAL: ReadonlySet<CallStatus> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);
/** Guards against TwiML that redirects to itself forever. */
const MAX_DOCUMENTS_PER_STEP = 20;

type StatusEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

interface CallRun {
  call: CarrierCall;
  /** The verbs Twilio continues with when a Gather times out. */
  afterGather: { docUrl: string | null; verbs: XmlElement[] } | null;
  busy: Promise<void>;
  documentsThisStep: number;
  sequence: number;
}

function isTerminal(call: CarrierCall): boolean {
  return TERMINAL.has(call.status);
}

/** Twilio Programmable Voice for outbound IVR calls: fetches TwiML and plays the contact's part. */
export class Voice {
  private readonly runs = new Map<string, CallRun>();

  constructor(private readonly runtime: CarrierRuntime) {}

  list(filter: CallFilter = {}): CarrierCall[] {
    return [...this.runs.values()]
      .map((r) => r.call)
      .filter((c) => (filter.to === undefined || c.to === filter.to) && (filter.from === undefined || c.from === filter.from))
      .map((c) => structuredClone(c));
  }

  get(sid: string): CarrierCall | undefined {
    return this.runs.get(sid)?.call;
  }

  reset(): void {
    for (const run of this.runs.values()) {
      if (!isTerminal(run.call)) run.call.status = 'canceled';
    }
    this.runs.clear();
  }

  create(params: FormParams): CarrierCall {
    const rawTo = first(params, 'To');
    const rawFrom = first(params, 'From');
    if (!rawTo) throw new TwilioApiError(400, 21201);
    if (!rawFrom) throw new TwilioApiError(400, 21213);
    const to = parseAddress(rawTo);
    const from = parseAddress(rawFrom);
    if (to.channel !== 'sms' || !isE164(to.number)) throw new TwilioApiError(400, 21211, `The 'To' number ${rawTo} is not a valid phone number.`);
    if (from.channel !== 'sms' || !isE164(from.number)) throw new TwilioApiError(400, 21212, `The 'From' number ${rawFrom} is not a valid phone number.`);
    const url = first(params, 'Url') || null;
    const twiml = first(params, 'Twiml') || null;
    if (!url && !twiml) throw new TwilioApiError(400, 21205);
    if (url && !/^https?:\/\//i.test(url)) throw new TwilioApiError(400, 21205, `Url is not a valid URL: ${url}`);
    const behaviour = this.runtime.behaviourFor(to.number);
    if (behaviour.failWith !== undefined && behaviour.failWith < 30000) throw new TwilioApiError(400, behaviour.failWith);

    const events = all(params, 'StatusCallbackEvent').flatMap((e) => e.split(/[\s,]+/)).filter(Boolean);
    const call: CarrierCall = {
      sid: twilioSid('CA'),
      accountSid: this.runtime.options.accountSid,
      from: from.number,
      to: to.number,
      url,
      twiml,
      statusCallback: first(params, 'StatusCallback') || this.runtime.options.voiceStatusUrl,
      statusCallbackEvents: events.length ? events : ['completed'],
      status: 'queued',
      gather: null,
      transcript: [],
      digits: [],
      webhooks: [],
      errorCode: null,
      createdAt: new Date().toISOString(),
      answeredAt: null,
      endedAt: null,
      durationSeconds: null,
    };
    const run: CallRun = { call, afterGather: null, busy: Promise.resolve(), documentsThisStep: 0, sequence: 0 };
    this.runs.set(call.sid, run);
    run.busy = this.step(run, () => this.dial(run, first(params, 'Method') === 'GET' ? 'GET' : 'POST'));
    return call;
  }

  /** The contact presses keys at the current `<Gather>`; resolves once the next TwiML has played. */
  async pressKeys(callSid: string, digits: string): Promise<CarrierCall> {
    if (!/^[0-9*#]+$/.test(digits)) throw new CarrierUsageError(400, `digits must be 0-9, * or #, got ${JSON.stringify(digits)}`);
    const run = await this.waitingRun(callSid);
    const gather = run.call.gather as GatherPrompt;
    run.call.gather = null;
    let entered = digits;
    let finishedOnKey: string | null = null;
    const finishAt = gather.finishOnKey ? entered.indexOf(gather.finishOnKey) : -1;
    if (finishAt >= 0) {
      finishedOnKey = gather.finishOnKey;
      entered = entered.slice(0, finishAt);
    }
    if (gather.numDigits !== null) entered = entered.slice(0, gather.numDigits);
    this.note(run, 'keys', digits);
    run.call.digits.push(entered);
    run.busy = this.step(run, () => {
      if (entered === '') return this.timeOut(run, gather);
      const extra: Record<string, string> = { Digits: entered };
      if (finishedOnKey !== null) extra.FinishedOnKey = finishedOnKey;
      return this.fetchAndRun(run, gather.action, gather.method, extra);
    });
    await run.busy;
    return structuredClone(run.call);
  }

  /** The contact stays silent until the `<Gather>` times out. */
  async letGatherTimeOut(callSid: string): Promise<CarrierCall> {
    const run = await this.waitingRun(callSid);
    const gather = run.call.gather as GatherPrompt;
    run.call.gather = null;
    run.busy = this.step(run, () => this.timeOut(run, gather));
    await run.busy;
    return structuredClone(run.call);
  }

  async hangUp(callSid: string, status: CallStatus = 'completed'): Promise<CarrierCall> {
    const run = this.requireRun(callSid);
    if (!isTerminal(run.call)) {
      this.note(run, 'hangup', 'the contact hung up');
      await this.end(run, status);
    }
    return structuredClone(run.call);
  }

  /** `POST /Calls/{Sid}.json`: our API ending a call or sending it new TwiML. */
  async update(callSid: string, params: FormParams): Promise<CarrierCall> {
    const run = this.runs.get(callSid);
    if (!run) throw new TwilioApiError(404, 20404);
    const status = first(params, 'Status');
    if (status === 'completed' || status === 'canceled') {
      if (!isTerminal(run.call)) await this.end(run, run.call.status === 'in-progress' ? 'completed' : 'canceled');
      return run.call;
    }
    const url = first(params, 'Url');
    const twiml = first(params, 'Twiml');
    if ((url || twiml) && run.call.status === 'in-progress') {
      run.call.gather = null;
      run.busy = this.step(run, () =>
        url ? this.fetchAndRun(run, url, first(params, 'Method') === 'GET' ? 'GET' : 'POST', {}) : this.runDocument(run, null, twiml ?? ''),
      );
    }
    return run.call;
  }

  private requireRun(callSid: string): CallRun {
    const run = this.runs.get(callSid);
    if (!run) throw new CarrierUsageError(404, `no call ${callSid}`);
    return run;
  }

  private async waitingRun(callSid: string): Promise<CallRun> {
    const run = this.requireRun(callSid);
    await run.busy;
    if (!run.call.gather) {
      throw new CarrierUsageError(409, `call ${callSid} is ${run.call.status} and not waiting at a <Gather>`);
    }
    return run;
  }

  private step(run: CallRun, work: () => Promise<void>): Promise<void> {
    run.documentsThisStep = 0;
    return work().catch((err: unknown) => {
      this.runtime.log.warn({ callSid: run.call.sid, err: String(err) }, 'carrier call step failed');
    });
  }

  private note(run: CallRun, kind: TranscriptKind, text: string): void {
    run.call.transcript.push({ at: new Date().toISOString(), kind, text });
  }

  private live(run: CallRun): boolean {
    return !this.runtime.closed && this.runs.get(run.call.sid) === run && !isTerminal(run.call);
  }

  private async dial(run: CallRun, method: 'GET' | 'POST'): Promise<void> {
    const { call } = run;
    await this.runtime.sleep(this.runtime.options.statusCallbackDelayMs);
    if (!this.live(run)) return;
    await this.statusEvent(run, 'initiated');
    call.status = 'ringing';
    await this.statusEvent(run, 'ringing');
    const outcome = this.runtime.behaviourFor(call.to).callOutcome;
    await this.runtime.sleep(this.runtime.options.statusCallbackDelayMs);
    if (!this.live(run)) return;
    if (outcome) {
      await this.end(run, outcome);
      return;
    }
    call.status = 'in-progress';
    call.answeredAt = new Date().toISOString();
    await this.statusEvent(run, 'answered');
    if (call.url) await this.fetchAndRun(run, call.url, method, {});
    else await this.runDocument(run, null, call.twiml ?? '');
  }

  private callParams(call: CarrierCall): Record<string, string> {
    return {
      AccountSid: call.accountSid,
      ApiVersion: API_VERSION,
      CallSid: call.sid,
      CallStatus: call.status,
      Called: call.to,
      Caller: call.from,
      Direction: 'outbound-api',
      From: call.from,
      To: call.to,
    };
  }

  private async fail(run: CallRun, code: number, detail: string): Promise<void> {
    run.call.errorCode = code;
    this.note(run, 'error', `${code} ${twilioErrorMessage(code)}: ${detail}`);
    this.note(run, 'say', 'We are sorry, an application error has occurred. Goodbye.');
    await this.end(run, 'completed');
  }

  private async fetchAndRun(run: CallRun, rawUrl: string, method: 'GET' | 'POST', extra: Record<string, string>): Promise<void> {
    if (!this.live(run)) return;
    run.documentsThisStep += 1;
    if (run.documentsThisStep > MAX_DOCUMENTS_PER_STEP) {
      await this.fail(run, 11200, `more than ${MAX_DOCUMENTS_PER_STEP} documents without waiting for the contact`);
      return;
    }
    const { response, delivery } = await this.runtime.post(method, rawUrl, { ...this.callParams(run.call), ...extra });
    run.call.webhooks.push(delivery);
    if (!this.live(run)) return;
    if (response.status < 200 || response.status >= 300) {
      await this.fail(run, 11200, `${method} ${rawUrl} answered ${response.status || response.error}`);
      return;
    }
    await this.runDocument(run, rawUrl, response.body);
  }

  private async runDocument(run: CallRun, docUrl: string | null, source: string): Promise<void> {
    let verbs: XmlElement[];
    try {
      verbs = parseTwiml(source);
    } catch (err) {
      await this.fail(run, 12100, err instanceof TwimlParseError ? err.message : String(err));
      return;
    }
    await this.runVerbs(run, docUrl, verbs);
  }

  private resolve(target: string, docUrl: string | null): string | null {
    try {
      return new URL(target, docUrl ?? undefined).href;
    } catch {
      return null;
    }
  }

  private speak(run: CallRun, verb: XmlElement): void {
    if (verb.name === 'Say') this.note(run, 'say', textOf(verb));
    else if (verb.name === 'Play') this.note(run, 'play', textOf(verb));
    else if (verb.name === 'Pause') this.note(run, 'pause', `${verb.attrs.length ?? '1'} s`);
  }

  private async runVerbs(run: CallRun, docUrl: string | null, verbs: XmlElement[]): Promise<void> {
    for (let i = 0; i < verbs.length; i++) {
      if (!this.live(run)) return;
      const verb = verbs[i];
      switch (verb.name) {
        case 'Say':
        case 'Play':
        case 'Pause':
          this.speak(run, verb);
          break;
        case 'Gather': {
          // Twilio posts to the current document when a Gather names no action.
          const action = verb.attrs.action ? this.resolve(verb.attrs.action, docUrl) : docUrl;
          if (!action) {
            await this.fail(run, 11200, `cannot resolve Gather action ${verb.attrs.action ?? '(none)'}`);
            return;
          }
          const prompt = elementsOf(verb);
          prompt.forEach((nested) => this.speak(run, nested));
          const numDigits = verb.attrs.numDigits ? Number(verb.attrs.numDigits) : null;
          run.call.gather = {
            action,
            method: verb.attrs.method?.toUpperCase() === 'GET' ? 'GET' : 'POST',
            numDigits: numDigits !== null && Number.isInteger(numDigits) && numDigits > 0 ? numDigits : null,
            timeoutSeconds: verb.attrs.timeout ? Number(verb.attrs.timeout) : 5,
            finishOnKey: verb.attrs.finishOnKey ?? '#',
            actionOnEmptyResult: verb.attrs.actionOnEmptyResult === 'true',
          };
          run.afterGather = { docUrl, verbs: verbs.slice(i + 1) };
          this.note(run, 'gather', `waiting for ${run.call.gather.numDigits ?? 'any number of'} key(s)`);
          return;
        }
        case 'Redirect': {
          const target = this.resolve(textOf(verb), docUrl);
          if (!target) {
            await this.fail(run, 11200, `cannot resolve Redirect ${textOf(verb)}`);
            return;
          }
          this.note(run, 'redirect', target);
          await this.fetchAndRun(run, target, verb.attrs.method?.toUpperCase() === 'GET' ? 'GET' : 'POST', {});
          return;
        }
        case 'Hangup':
        case 'Reject':
          this.note(run, 'hangup', `<${verb.name}>`);
          await this.end(run, 'completed');
          return;
        default:
          this.note(run, 'unsupported', `<${verb.name}> is not played by the local carrier`);
      }
    }
    if (this.live(run)) {
      this.note(run, 'hangup', 'end of TwiML');
      await this.end(run, 'completed');
    }
  }

  private async timeOut(run: CallRun, gather: GatherPrompt): Promise<void> {
    this.note(run, 'timeout', `no keys within ${gather.timeoutSeconds} s`);
    if (gather.actionOnEmptyResult) {
      await this.fetchAndRun(run, gather.action, gather.method, { Digits: '' });
      return;
    }
    const rest = run.afterGather ?? { docUrl: null, verbs: [] };
    run.afterGather = null;
    await this.runVerbs(run, rest.docUrl, rest.verbs);
  }

  private async end(run: CallRun, status: CallStatus): Promise<void> {
    const { call } = run;
    if (isTerminal(call)) return;
    call.status = status;
    call.gather = null;
    run.afterGather = null;
    call.endedAt = new Date().toISOString();
    call.durationSeconds = call.answeredAt ? Math.ceil((Date.parse(call.endedAt) - Date.parse(call.answeredAt)) / 1000) : 0;
    await this.statusEvent(run, 'completed');
  }

  private async statusEvent(run: CallRun, event: StatusEvent): Promise<void> {
    const { call } = run;
    if (!call.statusCallback || !call.statusCallbackEvents.includes(event) || this.runtime.closed) return;
    run.sequence += 1;
    const params: Record<string, string> = {
      ...this.callParams(call),
      CallStatus: event === 'initiated' ? 'initiated' : call.status,
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(run.sequence - 1),
      Timestamp: rfc2822(new Date().toISOString()) ?? '',
    };
    if (event === 'completed') {
      params.CallDuration = String(call.durationSeconds ?? 0);
      params.Duration = String(Math.ceil((call.durationSeconds ?? 0) / 60));
      if (call.errorCode !== null) params.ErrorCode = String(call.errorCode);
    }
    const { delivery } = await this.runtime.post('POST', call.statusCallback, params);
    call.webhooks.push(delivery);
  }

  toResource(call: CarrierCall): Record<string, unknown> {
    const uri = `/${API_VERSION}/Accounts/${call.accountSid}/Calls/${call.sid}.json`;
    const base = uri.replace(/\.json$/, '');
    return {
      account_sid: call.accountSid,
      annotation: null,
      answered_by: null,
      api_version: API_VERSION,
      caller_name: null,
      date_created: rfc2822(call.createdAt),
      date_updated: rfc2822(call.endedAt ?? call.answeredAt ?? call.createdAt),
      direction: 'outbound-api',
      duration: call.durationSeconds === null ? null : String(call.durationSeconds),
      end_time: rfc2822(call.endedAt),
      forwarded_from: null,
      from: call.from,
      from_formatted: call.from,
      group_sid: null,
      parent_call_sid: null,
      phone_number_sid: null,
      price: null,
      price_unit: 'USD',
      queue_time: '0',
      sid: call.sid,
      start_time: rfc2822(call.answeredAt),
      status: call.status,
      subresource_uris: {
        notifications: `${base}/Notifications.json`,
        recordings: `${base}/Recordings.json`,
        events: `${base}/Events.json`,
      },
      to: call.to,
      to_formatted: call.to,
      trunk_sid: null,
      uri,
    };
  }
}
