import { extractLinks } from '../../dev/carrier/mailbox';
import { TwimlParseError, elementsOf, parseTwiml, textOf } from '../../dev/carrier/twiml';

describe('carrier TwiML reader', () => {
  it('reads verbs, attributes, nested Say and entities', () => {
    const verbs = parseTwiml(
      '<?xml version="1.0"?><!-- ivr --><Response><Gather numDigits="1" action="/ivr?a=1&amp;b=2"><Say voice=\'alice\'>Press 1 &amp; go</Say></Gather><Pause length="2"/><Hangup/></Response>',
    );
    expect(verbs.map((v) => v.name)).toEqual(['Gather', 'Pause', 'Hangup']);
    expect(verbs[0].attrs).toEqual({ numDigits: '1', action: '/ivr?a=1&b=2' });
    expect(elementsOf(verbs[0]).map((e) => [e.name, e.attrs.voice, textOf(e)])).toEqual([['Say', 'alice', 'Press 1 & go']]);
    expect(verbs[1].attrs.length).toBe('2');
  });

  it('refuses documents Twilio would refuse', () => {
    expect(() => parseTwiml('<Response><Say>open')).toThrow(TwimlParseError);
    expect(() => parseTwiml('<Response><Say></Gather></Response>')).toThrow(TwimlParseError);
    expect(() => parseTwiml('<Play>x</Play>')).toThrow(/expected <Response>/);
    expect(() => parseTwiml('hello')).toThrow(TwimlParseError);
  });
});

describe('carrier e-mail link extraction', () => {
  it('collects HTML anchors first, then bare text URLs, without duplicates or trailing punctuation', () => {
    const html = '<a href="https://x.test/c?a=1&amp;b=2">yes</a> <a href=\'mailto:stop@x.test\'>stop</a> <a href="javascript:alert(1)">no</a>';
    const text = 'Confirm: https://x.test/c?a=1&b=2. Or https://x.test/other, thanks';
    expect(extractLinks(html, text)).toEqual(['https://x.test/c?a=1&b=2', 'mailto:stop@x.test', 'https://x.test/other']);
  });
});
