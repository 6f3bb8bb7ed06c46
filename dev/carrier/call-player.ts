import { twilioErrorMessage } from './errors';
import { API_VERSION, CarrierRuntime, rfc2822 } from './runtime';
import { TwimlParseError, XmlElement, elementsOf, parseTwiml, textOf } from './twiml';
import type { CallStatus, CarrierCall, GatherPrompt, TranscriptKind } from './call-types';

const TERMINAL: ReadonlySet<CallStatus> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);
/** Guards against TwiML that redirects to itself forever. */
const MAX_DOCUMENTS_PER_STEP = 20;

type StatusEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

export interface CallRun {
  call: CarrierCall;
  /** The verbs Twilio continues with when a Gather times out. */
  afterGather: { docUrl: string | null; verbs: XmlElement[] } | null;
  busy: Promise<void>;
  documentsThisStep: number;
  sequence: number;
}

export function isTerminal(call: CarrierCall): boolean {
  return TERMINAL.has(call.status);
}

/** Plays a call the way Twilio does: rings, fetches and runs TwiML, and sends the status callbacks. */
export class CallPlayer {
  constructor(
    private readonly runtime: CarrierRuntime,
    private readonly runs: ReadonlyMap<string, CallRun>,
  ) {}

  step(run: CallRun, work: () => Promise<void>): Promise<void> {
    run.documentsThisStep = 0;
    return work().catch((err: unknown) => {
      this.runtime.log.warn({ callSid: run.call.sid, err: String(err) }, 'carrier call step failed');
    });
  }

  note(run: CallRun, kind: TranscriptKind, text: string): void {
    run.call.transcript.push({ at: new Date().toISOString(), kind, text });
  }

  private live(run: CallRun): boolean {
    return !this.runtime.closed && this.runs.get(run.call.sid) === run && !isTerminal(run.call);
  }

  async dial(run: CallRun, method: 'GET' | 'POST'): Promise<void> {
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

  async fetchAndRun(run: CallRun, rawUrl: string, method: 'GET' | 'POST', extra: Record<string, string>): Promise<void> {
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

  async runDocument(run: CallRun, docUrl: string | null, source: string): Promise<void> {
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

  async timeOut(run: CallRun, gather: GatherPrompt): Promise<void> {
    this.note(run, 'timeout', `no keys within ${gather.timeoutSeconds} s`);
    if (gather.actionOnEmptyResult) {
      await this.fetchAndRun(run, gather.action, gather.method, { Digits: '' });
      return;
    }
    const rest = run.afterGather ?? { docUrl: null, verbs: [] };
    run.afterGather = null;
    await this.runVerbs(run, rest.docUrl, rest.verbs);
  }

  async end(run: CallRun, status: CallStatus): Promise<void> {
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
}
