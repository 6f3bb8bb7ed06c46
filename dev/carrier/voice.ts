import { CarrierUsageError, TwilioApiError } from './errors';
import { CallPlayer, isTerminal, type CallRun } from './call-player';
import { API_VERSION, CarrierRuntime, FormParams, all, first, isE164, parseAddress, rfc2822, twilioSid } from './runtime';
import type { CallFilter, CallStatus, CarrierCall, GatherPrompt } from './call-types';

/** Twilio Programmable Voice for outbound IVR calls: fetches TwiML and plays the contact's part. */
export class Voice {
  private readonly runs = new Map<string, CallRun>();
  private readonly player: CallPlayer;

  constructor(private readonly runtime: CarrierRuntime) {
    this.player = new CallPlayer(runtime, this.runs);
  }

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
    run.busy = this.player.step(run, () => this.player.dial(run, first(params, 'Method') === 'GET' ? 'GET' : 'POST'));
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
    this.player.note(run, 'keys', digits);
    run.call.digits.push(entered);
    run.busy = this.player.step(run, () => {
      if (entered === '') return this.player.timeOut(run, gather);
      const extra: Record<string, string> = { Digits: entered };
      if (finishedOnKey !== null) extra.FinishedOnKey = finishedOnKey;
      return this.player.fetchAndRun(run, gather.action, gather.method, extra);
    });
    await run.busy;
    return structuredClone(run.call);
  }

  /** The contact stays silent until the `<Gather>` times out. */
  async letGatherTimeOut(callSid: string): Promise<CarrierCall> {
    const run = await this.waitingRun(callSid);
    const gather = run.call.gather as GatherPrompt;
    run.call.gather = null;
    run.busy = this.player.step(run, () => this.player.timeOut(run, gather));
    await run.busy;
    return structuredClone(run.call);
  }

  async hangUp(callSid: string, status: CallStatus = 'completed'): Promise<CarrierCall> {
    const run = this.requireRun(callSid);
    if (!isTerminal(run.call)) {
      this.player.note(run, 'hangup', 'the contact hung up');
      await this.player.end(run, status);
    }
    return structuredClone(run.call);
  }

  /** `POST /Calls/{Sid}.json`: our API ending a call or sending it new TwiML. */
  async update(callSid: string, params: FormParams): Promise<CarrierCall> {
    const run = this.runs.get(callSid);
    if (!run) throw new TwilioApiError(404, 20404);
    const status = first(params, 'Status');
    if (status === 'completed' || status === 'canceled') {
      if (!isTerminal(run.call)) await this.player.end(run, run.call.status === 'in-progress' ? 'completed' : 'canceled');
      return run.call;
    }
    const url = first(params, 'Url');
    const twiml = first(params, 'Twiml');
    if ((url || twiml) && run.call.status === 'in-progress') {
      run.call.gather = null;
      run.busy = this.player.step(run, () =>
        url ? this.player.fetchAndRun(run, url, first(params, 'Method') === 'GET' ? 'GET' : 'POST', {}) : this.player.runDocument(run, null, twiml ?? ''),
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
