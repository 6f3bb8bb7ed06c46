import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { createLogger } from '../../lib/logger';
import { redactText, redactUrl } from '../../lib/redact';
import { temporalLogger } from '../../workers/logging';

/** The masking every worker and API log line goes through, line by line as pino writes it. */

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('test', 'trace', stream);
  return { logger, lines, text: () => lines.join('\n'), parsed: () => lines.map((l) => JSON.parse(l)) };
}

const PHONE = '+14153091718';
const BODY = 'yes please, my name is Dana Whitfield';

/** What a failed insert on MongoDB carries: the message, and the whole document among its own fields. */
function failedWrite(): Error {
  const err = new Error(`E11000 duplicate key error collection: consents dup key: { phone: "${PHONE}" }`);
  Object.assign(err, {
    code: 11000,
    errorResponse: { writeErrors: [{ index: 0, op: { contactId: 'c_5ed0765e94b1c4237c9a7bea', phone: PHONE, proof: { inbound: { From: `whatsapp:${PHONE}`, Body: BODY, ProfileName: 'Dana W' } } } }] },
  });
  return err;
}

describe('text', () => {
  test.each([
    ['E.164', `call ${PHONE} now`, 'call [phone] now'],
    ['WhatsApp address', `whatsapp:${PHONE}`, 'whatsapp:[phone]'],
    ['URL-encoded', `phone=%2B14153091718&x=1`, 'phone=[phone]&x=1'],
    ['URL-encoded WhatsApp address', 'From=whatsapp%3A%2B14153091718', 'From=whatsapp%3A[phone]'],
    ['grouped as typed', 'from +1 (415) 309-1718.', 'from [phone].'],
    ['e-mail address', 'to dana.w+news@example.co.uk', 'to [email]'],
    ['URL-encoded e-mail address', 'email=dana.w%40example.org', 'email=[email]'],
  ])('masks a phone number or address: %s', (_what, text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  test.each([
    ['contact id', 'c_5ed0765e94b1c4237c9a7bea'],
    ['journey id', 'journey.acme.c_8d33bb01fc620dd3311c723c:01a23258-d0fa-78c2-bca6-b4e2a714ba20'],
    ['message SID', 'SMea649bba7b5fe0a0fc8a956cd41eecbc'],
    ['task token (base64 with +digits)', 'CiQwMWEy+12345678901NGMtYjdiOS03OWVl'],
    ['timestamp and a short +count', '2026-12-01T16:03:32.711Z took +12 ms, 1796141012893'],
    ['package path in a stack', 'at node_modules/.pnpm/pino@10.4.0/node_modules/pino/lib/proto.js:123'],
  ])('keeps ids and numbers that are not phones: %s', (_what, text) => {
    expect(redactText(text)).toBe(text);
  });

  test('a long text is cut, never through a number', () => {
    const cut = redactText(`${'x'.repeat(3_990)} ${PHONE} and more`);
    expect(cut).toMatch(/^x{3990} …\(4012 chars\)$/);
  });

  test('a request URL: personal query values masked whole, page tokens masked, ids kept', () => {
    expect(redactUrl('/v1/consents?businessId=acme&phone=4153091718')).toBe('/v1/consents?businessId=acme&phone=[redacted]');
    expect(redactUrl('/webhooks/twilio/status?wf=journey.acme.c_8d33&run=01a2&c=c_8d33')).toBe('/webhooks/twilio/status?wf=journey.acme.c_8d33&run=01a2&c=c_8d33');
    const token = `${'eyJwIjoidW5zdWJzY3JpYmUiLCJiIjoiYWNtZSJ9'}.${'A'.repeat(43)}`;
    expect(redactUrl(`/u/${token}`)).toBe('/u/[token]');
  });
});

describe('log lines', () => {
  test('message, nested fields, child bindings and an error under any key', () => {
    const { logger, text, parsed } = capture();
    logger.child({ contact: { phone: PHONE, name: 'Dana W' }, contactId: 'c_5ed0765e94b1c4237c9a7bea' }).warn({ error: failedWrite(), detail: { to: PHONE, body: BODY } }, `reply from ${PHONE}`);
    expect(text()).not.toMatch(/4153091718|Dana|whitfield/i);
    const [line] = parsed();
    expect(line).toMatchObject({ msg: 'reply from [phone]', contactId: 'c_5ed0765e94b1c4237c9a7bea', contact: { phone: '[redacted]', name: '[redacted]' }, detail: { to: '[redacted]', body: '[redacted]' } });
    expect(line.error).toMatchObject({ type: 'Error', code: 11000, message: expect.stringContaining('dup key: { phone: "[phone]" }') });
    expect(line.error.errorResponse.writeErrors[0].op).toMatchObject({ contactId: 'c_5ed0765e94b1c4237c9a7bea', phone: '[redacted]', proof: { inbound: { From: '[redacted]', Body: '[redacted]', ProfileName: '[redacted]' } } });
  });

  test('an error as the only argument keeps its masked message as the line message', () => {
    const { logger, parsed } = capture();
    logger.error(failedWrite());
    logger.error({ err: failedWrite() });
    for (const line of parsed()) {
      expect(line.msg).toContain('dup key: { phone: "[phone]" }');
      expect(line.err).toMatchObject({ type: 'Error', stack: expect.stringContaining('[phone]') });
    }
  });

  test('workflow and activity lines through the Temporal SDK logger', () => {
    const { logger, text, parsed } = capture();
    temporalLogger(logger).warn('Activity failed', { sdkComponent: 'worker', workflowId: 'optout.sms.SMea649bba7b5fe0a0fc8a956cd41eecbc', error: failedWrite() });
    temporalLogger(logger).log('ERROR', `Failing workflow task: could not send to whatsapp:${PHONE}`, { sdkComponent: 'core' });
    expect(text()).not.toMatch(/4153091718|Dana/);
    expect(parsed().map((l) => [l.level, l.workflowId])).toEqual([
      [40, 'optout.sms.SMea649bba7b5fe0a0fc8a956cd41eecbc'],
      [50, undefined],
    ]);
  });

  test("core's long-task warning is information for a campaign, whose chained batches hold the task open, and a warning for the rest", () => {
    const { logger, parsed } = capture();
    const line = (workflowType: string) => ({ sdkComponent: 'core', workflowType, workflowTaskDuration: 8001 });
    temporalLogger(logger).warn('[TMPRL1104] 01a2:4:1 Workflow task duration exceeded 5 seconds.', line('campaignWorkflow'));
    temporalLogger(logger).warn('[TMPRL1104] 01a3:4:1 Workflow task duration exceeded 5 seconds.', line('journeyWorkflowV4'));
    temporalLogger(logger).warn('Activity failed', line('campaignWorkflow'));
    expect(parsed().map((l) => [l.level, l.workflowType])).toEqual([
      [30, 'campaignWorkflow'],
      [40, 'journeyWorkflowV4'],
      [40, 'campaignWorkflow'],
    ]);
  });

  test('Fastify request lines: the URL with its query string, and a failed request', async () => {
    const { logger, text, parsed } = capture();
    const app = Fastify({ loggerInstance: logger });
    app.get('/v1/consents', async () => {
      throw failedWrite();
    });
    // A real request: Fastify's inject needs an ES module that this project's jest cannot load.
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    await fetch(`${url}/v1/consents?businessId=acme&phone=${encodeURIComponent(PHONE)}&email=dana%40example.org`);
    await app.close();
    expect(text()).not.toMatch(/4153091718|dana|whitfield/i);
    const incoming = parsed().find((l) => l.msg === 'incoming request');
    expect(incoming.req.url).toBe('/v1/consents?businessId=acme&phone=[redacted]&email=[redacted]');
    expect(parsed().some((l) => l.err?.message?.includes('[phone]'))).toBe(true);
  });
});
