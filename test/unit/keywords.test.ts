import { FILLER_WORDS, KEYWORD_TABLES, type KeywordLanguage } from '../../domain/keyword-tables';
import {
  BUTTON_PAYLOADS,
  classifyButtonPayload,
  classifyInbound,
  normalizeInboundText,
  type InboundIntent,
  type KeywordExtensions,
} from '../../domain/keywords';

const intentOf = (text: string, extensions?: KeywordExtensions): InboundIntent => classifyInbound(text, extensions).intent;

describe('normalizeInboundText', () => {
  test.each([
    ['  Stop.  ', 'stop'],
    ['stop!!!', 'stop'],
    ['STOP', 'stop'],
    ['ＳＴＯＰ', 'stop'],
    ['S\u200BTOP', 'stop'],
    ['S\u200CT\u200DO\u2060P\uFEFF', 'stop'],
    ['ST\uFE0FOP', 'stop'],
    ['S\u00ADTOP', 'stop'],
    ['S\u0422\u041E\u0420', 'stop'],
    ['\u0455\u0442\u043E\u0440', 'stop'],
    ['\u03A4\u039F', 'to'],
    ['\u039D\u039F', 'no'],
    ['\u03A5\u0395S', 'yes'],
    ['\u0405\u0422\u041E\u0420', 'stop'],
    ['\u0441\u0442\u043E\u043F', 'ctoп'],
    ['ꜱᴛᴏᴘ', 'stop'],
    ['𝐒𝐓𝐎𝐏', 'stop'],
    ['Ⓢⓣⓞⓟ', 'stop'],
    ['🛑 STOP 🛑', 'stop'],
    ['👍', ''],
    ['ARRÊT', 'arret'],
    ['Désinscrire', 'desinscrire'],
    ['KÜNDIGEN', 'kundigen'],
    ['NÃO', 'nao'],
    ['Straße', 'strasse'],
    ['STRAẞE', 'strasse'],
    ['İPTAL', 'iptal'],
    ["don't", 'dont'],
    ['don’t text me', 'dont text me'],
    ['OPT-OUT', 'opt out'],
    ['stop\n\n  all\tnow', 'stop all now'],
    ['¿Ayuda?', 'ayuda'],
    ['no más', 'no mas'],
    ['5.30 pm', '5 30 pm'],
    ['नमस्ते', 'नमस्ते'],
    ['', ''],
    [' \u200B ', ''],
  ])('%j → %j', (text, expected) => {
    expect(normalizeInboundText(text)).toBe(expected);
  });
});

describe('opt-out', () => {
  test.each([
    // the carrier-standard keywords
    'STOP', 'stop', 'Stop', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT', 'OPT OUT', 'OPT-OUT',
    // punctuation, spacing, emoji and look-alikes around them
    'stop!!!', ' Stop. ', '🛑 STOP 🛑', '😡 STOP', 'S\u200BTOP', 'ＳＴＯＰ', 'S\u0422\u041E\u0420', 'ꜱᴛᴏᴘ', 'S.T.O.P', 'S T O P', '\u0405\u0422\u041E\u0420', '\u0455\u0442\u043E\u0440 please',
    'stooooop', 'STOP STOP STOP', 'stop all', 'Stop-all', '🛑',
    // filler words around a keyword
    'stop please', 'please stop', 'Stop it', 'stop now', 'stop it now thanks', 'just stop', 'pls stop', 'plz stop!!',
    'cancel please', 'cancel all', 'unsubscribe me', 'unsubscribe me please', 'remove me', 'I want to stop',
    'can you stop?', 'Hi, stop', 'ok stop', 'yes stop', 'no stop', 'no, stop', 'stop thank you', 'please please stop',
    // explicit opt-out phrases anywhere in the message
    'please stop texting me', 'stop messaging me', 'Stop sending me these', 'stop sending me messages',
    'take me off your list', "don't text me", 'do not text me again', 'leave me alone', 'leave me alone!!!',
    'remove me from your list', 'remove me from this list please', 'how do I unsubscribe?', 'I want to opt out of this',
    'can you stop texting me', 'Who is this? Stop texting me', 'no more messages', 'no more messages please',
    'No more texts', 'I don\'t want any more messages', 'please no more whatsapp', 'Stop. Who is this?',
    'STOP\nSent from my iPhone', 'wrong number', 'wrong number, stop', 'unsub', 'opt me out',
    "Please don't. Stop texting me",
    // accepted on purpose: when in doubt, the opt-out is honoured
    'stop sending the bill to my old address', 'remove me from the group',
  ])('%j is an opt-out', (text) => {
    expect(intentOf(text)).toBe('opt_out');
  });

  test.each<[string, KeywordLanguage]>([
    ['BAJA', 'es'], ['baja por favor', 'es'], ['PARAR', 'es'], ['ALTO', 'es'], ['CANCELAR', 'es'], ['no más', 'es'],
    ['no mas', 'es'], ['NO MÁS MENSAJES', 'es'], ['dar de baja', 'es'], ['quiero darme de baja', 'es'],
    ['no me envíen más mensajes', 'es'], ['detener', 'es'], ['basta', 'es'],
    ['ARRET', 'fr'], ['ARRÊT', 'fr'], ['arrêt svp', 'fr'], ['DÉSABONNER', 'fr'], ['desabonner', 'fr'],
    ['DESINSCRIRE', 'fr'], ['désinscrire', 'fr'], ['je veux me désinscrire', 'fr'], ["arrêtez de m'envoyer des messages", 'fr'],
    ['plus de SMS merci', 'fr'], ['annuler', 'fr'],
    ['STOPP', 'de'], ['stopp bitte', 'de'], ['ABMELDEN', 'de'], ['bitte abmelden', 'de'], ['ABBESTELLEN', 'de'],
    ['KÜNDIGEN', 'de'], ['kundigen', 'de'], ['kuendigen', 'de'], ['keine Nachrichten mehr', 'de'],
    ['Ich will keine Werbung mehr', 'de'],
    ['SAIR', 'pt'], ['pare', 'pt'], ['DESCADASTRAR', 'pt'], ['me descadastre por favor', 'pt'],
    ['não quero mais receber mensagens', 'pt'], ['parem de me enviar mensagens', 'pt'],
    ['disiscrivimi', 'it'], ['basta con i messaggi', 'it'],
    ['afmelden', 'nl'], ['uitschrijven', 'nl'], ['geen berichten meer', 'nl'],
  ])('%j is an opt-out in %s', (text, language) => {
    expect(classifyInbound(text)).toMatchObject({ intent: 'opt_out', language });
  });

  test('an opt-out word shared by several languages is attributed to the first table that lists it', () => {
    expect(classifyInbound('stop')).toMatchObject({ language: 'en', matched: 'stop' });
    expect(classifyInbound('Parar')).toMatchObject({ language: 'es', matched: 'parar' });
  });

  test('the matched field names the phrase that decided, not the emoji around it', () => {
    expect(classifyInbound('🛑 STOP 🛑')).toEqual({ intent: 'opt_out', normalized: 'stop', matched: 'stop', language: 'en' });
    expect(classifyInbound('please stop texting me')).toMatchObject({ matched: 'stop texting me' });
    expect(classifyInbound('🛑')).toEqual({ intent: 'opt_out', normalized: '', matched: '🛑' });
  });
});

describe('words in another role are not an opt-out', () => {
  test.each([
    'bus stop at 5?',
    'what time does the store end',
    'can I cancel my order?',
    "don't stop the updates",
    "please don't stop sending me the deals",
    'why did you stop sending?',
    'Where is the nearest bus stop',
    'I will quit my job tomorrow',
    'the end',
    'Is the offer going to end soon?',
    'para mañana?',
    'el precio es muy alto',
    'vou sair agora para o trabalho',
    'ich habe keine Nachricht bekommen',
    'stop by the shop on friday',
    'no more than 5 people please',
    'I need help with my order',
    'remove the second item',
    'no, I meant the other one',
    'cancelled',
  ])('%j is other', (text) => {
    expect(intentOf(text)).toBe('other');
  });
});

describe('opt-in', () => {
  test.each<[string, KeywordLanguage]>([
    ['START', 'en'], ['start', 'en'], ['UNSTOP', 'en'], ['SUBSCRIBE', 'en'], ['subscribe', 'en'], ['Subscribe!', 'en'],
    ['subscribe me please', 'en'], ['I want to subscribe', 'en'], ['sign me up', 'en'],
    ['opt in', 'en'], ['OPT-IN', 'en'], ['yes subscribe', 'en'], ['start again', 'en'],
    ['ALTA', 'es'], ['dar de alta', 'es'], ['INSCRIRE', 'fr'], ["m'inscrire", 'fr'], ['ANMELDEN', 'de'],
    ['bitte wieder anmelden', 'de'], ['cadastrar', 'pt'], ['iscrivimi', 'it'], ['aanmelden', 'nl'],
  ])('%j is an opt-in (%s)', (text, language) => {
    expect(classifyInbound(text)).toMatchObject({ intent: 'opt_in', language });
  });

  test('start in a sentence is not an opt-in', () => {
    expect(intentOf('what time does the class start')).toBe('other');
  });
});

describe('help', () => {
  test.each<[string, KeywordLanguage]>([
    ['HELP', 'en'], ['help!', 'en'], ['help please', 'en'], ['INFO', 'en'], ['AYUDA', 'es'], ['¿ayuda?', 'es'],
    ['AIDE', 'fr'], ['HILFE', 'de'], ['AJUDA', 'pt'], ['aiuto', 'it'], ['hulp', 'nl'],
  ])('%j is help (%s)', (text, language) => {
    expect(classifyInbound(text)).toMatchObject({ intent: 'help', language });
  });
});

describe('yes', () => {
  test.each([
    'YES', 'yes', '\u03A5\u0395\u0405', 'Y', 'OK', 'ok', 'OKAY', 'YEP', 'YEAH', 'SURE', 'SI', 'SÍ', 'sí', 'OUI', 'JA', 'SIM', '👍', '👍🏽', '👍👍',
    '✅', '✔️', 'yes please', 'ok sure', 'Yes!!', 'yesss', 'ok thanks', 'sí, gracias', 'oui merci', 'ja bitte',
    'Yes 😊', 'thanks 👍', 'claro', "d'accord", 'va bene', 'ja graag', 'of course',
  ])('%j is yes', (text) => {
    expect(intentOf(text)).toBe('yes');
  });

  test('a thumbs-up alone is yes although normalisation drops it from the key', () => {
    expect(classifyInbound('👍')).toEqual({ intent: 'yes', normalized: '', matched: '👍' });
  });

  test('yes in a sentence is not a yes', () => {
    expect(intentOf('yes but what time is it at')).toBe('other');
    expect(intentOf('Yes. What time?')).toBe('other');
  });
});

describe('no', () => {
  test.each([
    'NO', 'no', '\u039D\u039F', 'N', 'NOPE', 'NON', 'NEIN', 'NÃO', 'nao', 'no thanks', 'No thank you', 'no, thanks', 'nooo', 'ok no',
    'non merci', 'nein danke', 'no gracias', 'nee', '👎', 'not interested',
  ])('%j is no', (text) => {
    expect(intentOf(text)).toBe('no');
  });

  test.each([
    ['no', 'en'],
    ['NÃO', 'pt'],
    ['NON', 'fr'],
    ['nee', 'nl'],
  ] as const)('%j is no in %s', (text, language) => {
    expect(classifyInbound(text).language).toBe(language);
  });
});

describe('mixed intents', () => {
  test.each<[string, InboundIntent]>([
    ['yes stop', 'opt_out'],
    ['👍 stop', 'opt_out'],
    ['help stop', 'opt_out'],
    ['start stop', 'opt_out'],
    ['no more', 'opt_out'],
    ['yes no', 'other'],
    ['help yes', 'other'],
    ['ok help', 'help'],
    ['ok start', 'opt_in'],
    ['please', 'other'],
    ['thanks', 'other'],
    ['', 'other'],
    ['   ', 'other'],
    ['😊', 'other'],
    ['?', 'other'],
  ])('%j → %s', (text, intent) => {
    expect(intentOf(text)).toBe(intent);
  });
});

describe('per-business extensions', () => {
  const extensions: KeywordExtensions = {
    optOut: ['PAUSE', 'no more deals'],
    optIn: ['Count me in'],
    help: ['¿Qué es esto?'],
    yes: ['Vamos'],
    no: ['Paso'],
  };

  test.each<[string, InboundIntent]>([
    ['pause', 'opt_out'],
    ['PAUSE please', 'opt_out'],
    ['no more deals', 'opt_out'],
    ['I said no more deals, thanks', 'opt_out'],
    ['count me in', 'opt_in'],
    ['que es esto', 'help'],
    ['vamos!', 'yes'],
    ['paso', 'no'],
    ['stop', 'opt_out'],
    ['please pause my order', 'other'],
  ])('%j → %s with the business words', (text, intent) => {
    expect(intentOf(text, extensions)).toBe(intent);
  });

  test('business words do nothing for other businesses', () => {
    expect(intentOf('pause')).toBe('other');
    expect(intentOf('vamos')).toBe('other');
  });

  test('a business cannot turn a built-in opt-out word into something else', () => {
    expect(intentOf('stop', { yes: ['stop'] })).toBe('opt_out');
    expect(intentOf('cancel', { no: ['cancel'] })).toBe('opt_out');
  });

  test('a business may re-purpose an ordinary word', () => {
    expect(intentOf('fine', { no: ['fine'] })).toBe('no');
  });

  test('empty extension lists and entries change nothing', () => {
    expect(classifyInbound('yes', { optOut: [], yes: ['', '  ', '!!'] })).toEqual(classifyInbound('yes'));
  });

  test('extensions reported without a language', () => {
    expect(classifyInbound('pause', extensions)).toEqual({ intent: 'opt_out', normalized: 'pause', matched: 'pause' });
  });
});

describe('every listed word classifies as its own intent', () => {
  const fields = [['optOut', 'opt_out'], ['optIn', 'opt_in'], ['help', 'help'], ['yes', 'yes'], ['no', 'no']] as const;
  const listed = KEYWORD_TABLES.flatMap((t) => fields.flatMap(([field, intent]) => t[field].map((w) => [t.language, w, intent] as const)));

  test.each(listed)('%s %j → %s', (_language, word, intent) => {
    expect(intentOf(word)).toBe(intent);
  });

  test.each(FILLER_WORDS.map((w) => [w]))('filler %j alone is other', (word) => {
    expect(intentOf(word)).toBe('other');
  });
});

describe('button payloads', () => {
  test.each<[string, InboundIntent]>([
    [BUTTON_PAYLOADS.yes, 'yes'],
    [BUTTON_PAYLOADS.no, 'no'],
    [BUTTON_PAYLOADS.stop, 'opt_out'],
    [' YES ', 'yes'],
    ['Stop', 'opt_out'],
    ['unsubscribe', 'other'],
    ['yes please', 'other'],
    ['category:offers', 'other'],
    ['category:all', 'other'],
    ['', 'other'],
  ])('%j → %s', (payload, intent) => {
    expect(classifyButtonPayload(payload)).toBe(intent);
  });

  test('payload values are the ones the journey sends', () => {
    expect(BUTTON_PAYLOADS).toEqual({ yes: 'yes', no: 'no', stop: 'stop' });
  });
});
