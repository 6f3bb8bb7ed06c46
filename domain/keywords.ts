/**
 * Inbound keyword classifier: turns a contact's free-text SMS/WhatsApp reply into an intent.
 *
 * The rule (docs/keywords.md has the word lists and examples):
 * 1. Text is first reduced to a matching key: invisible characters dropped, NFKC, case-folded,
 *    look-alike Cyrillic/Greek/small-capital letters mapped to Latin, Latin diacritics removed,
 *    punctuation and emoji removed (a few signal emoji such as 👍 and 🛑 are kept as words while
 *    classifying), runs of three or more equal letters squeezed ("stooop" → "stop").
 * 2. Explicit opt-out phrases win wherever they appear in a clause ("stop texting", "unsubscribe",
 *    "opt out", "remove me from", "no more messages" ...), unless directly negated ("don't stop
 *    sending", "why did you stop sending").
 * 3. Otherwise a message is a command only when it is made of keywords and filler words alone
 *    ("please stop", "yes please", "stop it now thanks"). A keyword inside a sentence ("bus stop at
 *    5?", "can I cancel my order?") leaves the message as other.
 * 4. A clause of a longer message (split on . ! ? , ; : and line breaks) that is an opt-out command
 *    makes the message an opt-out ("Stop. Who is this?"); every other intent needs the whole message.
 * 5. Opt-out beats every other intent ("yes stop"); opt-in absorbs yes ("yes subscribe"); any other
 *    mix of intents ("yes no") is other; ok/okay/k count as yes only when nothing else does.
 * When in doubt between opt-out and other the classifier answers opt-out: a wrongly honoured opt-out
 * costs the contact one START, a missed one breaks carrier rules and the contact's trust.
 *
 * Pure and deterministic: also bundled into workflows, so no Node built-ins and no I/O.
 */

export type InboundIntent = 'opt_out' | 'opt_in' | 'help' | 'yes' | 'no' | 'other';
export type KeywordLanguage = 'en' | 'es' | 'fr' | 'de' | 'pt' | 'it' | 'nl';

/** Per-business extra words or phrases; they add to the built-in lists and never remove from them. */
export interface KeywordExtensions {
  optOut?: string[];
  optIn?: string[];
  help?: string[];
  yes?: string[];
  no?: string[];
}

export interface InboundClassification {
  intent: InboundIntent;
  /** The matching key of the whole message (normalizeInboundText); not meant for display. */
  normalized: string;
  /** The keyword or phrase, in normalised form, that decided the intent. */
  matched?: string;
  /** Language of the matched word: a hint for the reply language, absent for business words and emoji. */
  language?: KeywordLanguage;
}

type CommandIntent = Exclude<InboundIntent, 'other'>;

export interface KeywordTable {
  readonly language: KeywordLanguage;
  readonly optOut: readonly string[];
  readonly optIn: readonly string[];
  readonly help: readonly string[];
  readonly yes: readonly string[];
  readonly no: readonly string[];
}

/**
 * An opt-out that counts anywhere in a clause: a lead phrase, optionally followed by up to
 * MAX_GAP_WORDS gap words, then an object word, then a required tail phrase.
 */
export interface OptOutPattern {
  readonly language?: KeywordLanguage;
  readonly lead: readonly string[];
  readonly gap?: readonly string[];
  readonly object?: readonly string[];
  readonly tail?: readonly string[];
}

// Words are written naturally (accents, apostrophes, hyphens); they go through the same
// normalisation as inbound text when the lexicon is built, so "ARRÊT" and "arret" are one entry.
// A word listed under several languages is attributed to the first table that lists it.
export const KEYWORD_TABLES: readonly KeywordTable[] = [
  {
    language: 'en',
    optOut: [
      'stop', 'stopall', 'unsubscribe', 'unsub', 'cancel', 'end', 'quit', 'revoke', 'optout', 'opt out', 'opt-out',
      'opt me out', 'remove', 'remove me', 'take me off', 'take me off your list', 'take me off the list', 'delete me',
      'leave me alone', 'no more', 'no more messages', 'no more texts', "don't text me", 'do not text me',
      "don't message me", 'do not message me', "don't contact me", 'do not contact me', 'stop texting me',
      'stop messaging me', 'stop sending', 'wrong number', 'wrong person', 'enough', 'cease', 'halt', '🛑',
    ],
    optIn: ['start', 'unstop', 'subscribe', 'resubscribe', 'opt in', 'opt-in', 'optin', 'opt me in', 'sign me up', 'subscribe me', 'resume', 'restart'],
    help: ['help', 'info', 'information', 'support', 'more info'],
    yes: [
      'yes', 'y', 'yep', 'yeah', 'yea', 'yup', 'yes please', 'sure', 'ok', 'okay', 'okey', 'oki', 'okie', 'k', 'kk',
      'ok sure', 'of course', 'absolutely', 'definitely', 'confirm', 'confirmed', 'agree', 'i agree', 'accept',
      'i accept', 'i do', 'sounds good', 'go ahead', 'fine', '👍', '👌', '✅', '✔', '☑',
    ],
    no: ['no', 'n', 'nope', 'nah', 'no thanks', 'no thank you', 'not interested', 'decline', 'i decline', '👎', '❌'],
  },
  {
    language: 'es',
    optOut: [
      'baja', 'de baja', 'dar de baja', 'darme de baja', 'parar', 'para', 'alto', 'cancelar', 'detener', 'no más',
      'no más mensajes', 'basta', 'desuscribir', 'desuscribirme', 'eliminar', 'eliminarme', 'salir', 'fin',
    ],
    optIn: ['alta', 'dar de alta', 'darme de alta', 'comenzar', 'iniciar', 'empezar', 'suscribir', 'suscribirme', 'reanudar'],
    help: ['ayuda', 'información'],
    yes: ['sí', 'si', 'claro', 'vale', 'de acuerdo', 'por supuesto', 'acepto', 'dale', 'sip'],
    no: ['no', 'no gracias', 'nop', 'no quiero'],
  },
  {
    language: 'fr',
    optOut: [
      'arrêt', 'arrêter', 'arrêtez', 'stop', 'désabonner', 'me désabonner', 'désabonnement', 'désabonnez-moi',
      'désinscrire', 'me désinscrire', 'désinscription', 'désinscrivez-moi', 'annuler', 'stop sms',
    ],
    optIn: ['inscrire', "m'inscrire", 'abonner', "m'abonner", 'réabonner', 'commencer', 'démarrer'],
    help: ['aide'],
    yes: ['oui', 'ouais', "d'accord", 'bien sûr', 'volontiers'],
    no: ['non', 'non merci', 'pas intéressé'],
  },
  {
    language: 'de',
    optOut: [
      'stopp', 'abmelden', 'abbestellen', 'kündigen', 'kuendigen', 'beenden', 'austragen', 'abmeldung', 'abbestellung',
      'deabonnieren', 'aufhören', 'aufhoeren', 'keine nachrichten mehr',
    ],
    optIn: ['anmelden', 'abonnieren', 'starten', 'wieder anmelden'],
    help: ['hilfe'],
    yes: ['ja', 'jawohl', 'klar', 'gerne', 'jep'],
    no: ['nein', 'nein danke'],
  },
  {
    language: 'pt',
    optOut: [
      'sair', 'parar', 'pare', 'cancelar', 'descadastrar', 'descadastre', 'me descadastre', 'descadastrar-me',
      'remover', 'me remova', 'chega', 'não quero mais', 'cancelar inscrição',
    ],
    optIn: ['entrar', 'voltar', 'inscrever', 'cadastrar', 'assinar', 'começar', 'reativar'],
    help: ['ajuda'],
    yes: ['sim', 'pode ser', 'com certeza', 'aceito'],
    no: ['não', 'nao', 'não obrigado', 'não quero'],
  },
  {
    language: 'it',
    optOut: ['disiscrivi', 'disiscrivimi', 'disiscrizione', 'cancellami', 'annulla', 'cancella', 'rimuovimi'],
    optIn: ['iscrivi', 'iscrivimi', 'iscrizione', 'avvia', 'inizia'],
    help: ['aiuto'],
    yes: ['sì', 'si', 'certo', 'va bene'],
    no: ['no', 'no grazie'],
  },
  {
    language: 'nl',
    optOut: ['stoppen', 'afmelden', 'uitschrijven', 'opzeggen', 'geen berichten meer'],
    optIn: ['aanmelden', 'inschrijven'],
    help: ['hulp', 'informatie'],
    yes: ['ja', 'jazeker', 'prima', 'oke', 'is goed'],
    no: ['nee', 'neen', 'nee dank je', 'nee bedankt'],
  },
];

/** Yes words that yield to any other intent in the same message ("ok no" is no, "ok stop" is opt-out). */
export const WEAK_YES_WORDS: readonly string[] = ['ok', 'okay', 'okey', 'oki', 'okie', 'k', 'kk', 'oke', 'fine'];

/** Words that may surround a keyword without changing what the contact means. */
export const FILLER_WORDS: readonly string[] = [
  'please', 'pls', 'plz', 'plse', 'now', 'right now', 'thanks', 'thank you', 'thank u', 'thankyou', 'thx', 'thnx', 'ty',
  'very much', 'so much', 'me', 'all', 'it', 'this', 'that', 'them', 'just', 'already', 'asap', 'immediately', 'again',
  'hi', 'hello', 'hey', 'sir', 'can you', 'could you', 'would you', 'will you', 'can u', 'i said', 'i want to', 'i would like to', "i'd like to", 'i wish to', 'want to', 'wanna',
  'por favor', 'porfa', 'porfavor', 'gracias', 'muchas gracias', 'ya', 'ahora', 'hola', 'todo', 'todos', 'quiero',
  "s'il vous plaît", "s'il te plaît", 'svp', 'stp', 'merci', 'merci beaucoup', 'maintenant', 'bonjour', 'tout', 'tous',
  'je veux', 'je voudrais', 'bitte', 'danke', 'danke schön', 'jetzt', 'sofort', 'hallo', 'alles', 'alle', 'ich will',
  'ich möchte', 'mich', 'obrigado', 'obrigada', 'agora', 'olá', 'oi', 'tudo', 'quero', 'per favore', 'grazie',
  'adesso', 'ora', 'ciao', 'tutto', 'voglio', 'alsjeblieft', 'alstublieft', 'aub', 'graag', 'bedankt', 'dank je',
  'dankjewel', 'dank u', 'nu', 'hoi', 'ik wil', 'mij',
];

const EN_MESSAGE_NOUNS = [
  'messages', 'message', 'msgs', 'msg', 'texts', 'text', 'txts', 'txt', 'texting', 'sms', 'whatsapp', 'whatsapps',
  'messaging', 'sending', 'contacting', 'emailing', 'spamming', 'spam', 'notifications', 'notification', 'alerts',
  'marketing', 'promotions', 'promos', 'ads', 'calling', 'bothering', 'harassing',
];
const EN_GAP = ['all', 'the', 'these', 'this', 'those', 'your', 'ur', 'any', 'more', 'of', 'further', 'future', 'my', 'me', 'such'];

export const OPT_OUT_PATTERNS: readonly OptOutPattern[] = [
  { language: 'en', lead: ['stop', 'quit', 'cease', 'no more'], gap: EN_GAP, object: EN_MESSAGE_NOUNS },
  {
    language: 'en',
    lead: ["don't want", 'do not want', "don't need", 'do not need', "don't send", 'do not send'],
    gap: [...EN_GAP, 'to', 'receive', 'get', 'getting', 'receiving'],
    object: EN_MESSAGE_NOUNS,
  },
  {
    language: 'en',
    lead: [
      'unsubscribe', 'unsub', 'opt out', 'opt-out', 'optout', 'opt me out', 'stopall', 'remove me from', 'take me off',
      'take my number off', 'remove my number', 'delete my number', 'leave me alone', "don't text me", 'do not text me',
      "don't message me", 'do not message me', "don't contact me", 'do not contact me', "don't msg me",
      "don't whatsapp me",
    ],
  },
  {
    language: 'es',
    lead: [
      'no más', 'no quiero', 'no quiero recibir', 'no me envíen', 'no me envíes', 'no me manden', 'no me mandes',
      'dejen de enviar', 'deja de enviar', 'dejen de mandar', 'deja de mandar', 'basta de',
    ],
    gap: ['más', 'sus', 'tus', 'estos', 'los', 'recibir', 'me'],
    object: ['mensajes', 'mensaje', 'sms', 'whatsapp', 'whatsapps', 'notificaciones', 'promociones', 'publicidad', 'textos', 'correos'],
  },
  {
    language: 'es',
    lead: [
      'dar de baja', 'darme de baja', 'darse de baja', 'desuscribir', 'desuscribirme', 'dejen de escribirme',
      'deja de escribirme', 'dejen de enviarme', 'deja de enviarme', 'no me escriban más', 'no me escribas más',
    ],
  },
  {
    language: 'fr',
    lead: ['plus de', 'arrêtez', 'arrête', 'arrêter', 'stop', 'je ne veux plus', 'je ne veux pas', 'ne plus recevoir'],
    gap: ['les', 'des', 'vos', 'ces', 'tes', 'de', 'recevoir', 'tous', 'mes'],
    object: ['messages', 'message', 'sms', 'textos', 'texto', 'notifications', 'whatsapp', 'publicités', 'pubs', 'promotions'],
  },
  {
    language: 'fr',
    lead: [
      'désabonner', 'me désabonner', 'désabonnez-moi', 'désinscrivez-moi', 'ne plus recevoir', "arrêtez de m'envoyer",
      "arrête de m'envoyer", "arrêtez de m'écrire", "ne m'écrivez plus", "ne m'envoyez plus",
    ],
  },
  {
    language: 'de',
    lead: ['keine'],
    object: ['nachrichten', 'nachricht', 'sms', 'whatsapp', 'whatsapps', 'mitteilungen', 'benachrichtigungen', 'werbung', 'textnachrichten', 'newsletter'],
    tail: ['mehr'],
  },
  {
    language: 'de',
    lead: ['keine weiteren', 'schluss mit', 'hört auf mit', 'stopp'],
    gap: ['ihre', 'eure', 'diese', 'den', 'der', 'die'],
    object: ['nachrichten', 'nachricht', 'sms', 'whatsapp', 'whatsapps', 'mitteilungen', 'benachrichtigungen', 'werbung', 'textnachrichten', 'newsletter'],
  },
  {
    language: 'de',
    lead: [
      'hört auf mir zu schreiben', 'hören sie auf mir zu schreiben', 'schreiben sie mir nicht mehr', 'schreibt mir nicht mehr',
      'nicht mehr kontaktieren', 'nicht mehr anschreiben',
    ],
  },
  {
    language: 'pt',
    lead: [
      'não quero mais', 'não quero', 'chega de', 'parem de', 'pare de', 'para de', 'não me mandem', 'não me mande',
      'não me enviem', 'não me envie',
    ],
    gap: ['receber', 'enviar', 'mandar', 'mais', 'essas', 'estas', 'as', 'os', 'suas', 'seus', 'me'],
    object: ['mensagens', 'mensagem', 'sms', 'whatsapp', 'zap', 'notificações', 'promoções', 'propaganda', 'propagandas', 'textos'],
  },
  {
    language: 'pt',
    lead: [
      'me descadastre', 'me descadastra', 'descadastrar', 'descadastre', 'me tire da lista', 'me tira da lista',
      'me remova da lista', 'não quero mais receber', 'parem de me mandar', 'parem de me enviar',
    ],
  },
  {
    language: 'it',
    lead: ['basta', 'non voglio più', 'non voglio', 'smettete di', 'smetti di', 'niente più'],
    gap: ['inviare', 'mandare', 'ricevere', 'mandarmi', 'inviarmi', 'più', 'questi', 'i', 'altri', 'con'],
    object: ['messaggi', 'messaggio', 'sms', 'notifiche', 'whatsapp', 'pubblicità', 'promozioni'],
  },
  { language: 'it', lead: ['disiscrivimi', 'cancellami', 'rimuovimi', 'toglietemi dalla lista', 'non scrivetemi più'] },
  {
    language: 'nl',
    lead: ['geen'],
    object: ['berichten', 'bericht', 'sms', 'smsjes', 'whatsapp', 'whatsapps', 'meldingen', 'reclame', 'nieuwsbrief'],
    tail: ['meer'],
  },
  {
    language: 'nl',
    lead: ['stop met', 'hou op met', 'stoppen met'],
    gap: ['uw', 'jullie', 'deze', 'die', 'het', 'de', 'sturen'],
    object: ['berichten', 'bericht', 'sms', 'smsjes', 'whatsapp', 'whatsapps', 'meldingen', 'reclame', 'nieuwsbrief', 'sturen'],
  },
  { language: 'nl', lead: ['uitschrijven', 'schrijf me uit', 'schrijf mij uit'] },
];

/** Words just before an opt-out phrase that reverse it ("don't stop sending", "why did you stop texting"). */
export const OPT_OUT_NEGATIONS: readonly string[] = ["don't", 'do not', 'never', "didn't", 'did you', 'not'];

/** Emoji that carry an intent and so survive normalisation while classifying. */
export const SIGNAL_EMOJI: readonly string[] = ['👍', '👌', '✅', '✔', '☑', '👎', '❌', '🛑'];

/** WhatsApp quick-reply payloads we send; their ids are ours, so they are matched exactly. */
export const BUTTON_PAYLOADS: { readonly yes: 'yes'; readonly no: 'no'; readonly stop: 'stop' } = Object.freeze({
  yes: 'yes',
  no: 'no',
  stop: 'stop',
} as const);

const MAX_COMMAND_TOKENS = 12;
const MAX_GAP_WORDS = 4;

// Letters that render like Latin ones, so "SТОР" typed with Cyrillic Т О Р still reads STOP.
// Capitals and small letters are listed apart because they imitate different Latin letters
// (Greek Ν is N, ν is v); folding applies this map before lower-casing. A few Latin letters without
// a canonical decomposition (ø, ł, ß ...) sit here too.
const LETTER_FOLDS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    А: 'a', В: 'b', Е: 'e', К: 'k', М: 'm', Н: 'h', О: 'o', Р: 'p', С: 'c', Т: 't', У: 'y', Х: 'x', Ѕ: 's', І: 'i',
    Ј: 'j', Һ: 'h', Ү: 'y', Ԛ: 'q', Ԝ: 'w', Ӏ: 'l',
    а: 'a', в: 'b', е: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', і: 'i',
    ј: 'j', һ: 'h', ԁ: 'd', ԛ: 'q', ԝ: 'w', ү: 'y', ӏ: 'l',
    Α: 'a', Β: 'b', Ε: 'e', Ζ: 'z', Η: 'h', Ι: 'i', Κ: 'k', Μ: 'm', Ν: 'n', Ο: 'o', Ρ: 'p', Τ: 't', Υ: 'y', Χ: 'x',
    Ϲ: 'c', Ϳ: 'j',
    α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', μ: 'u', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ς: 's',
    ϲ: 'c', ϳ: 'j',
    ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm', ɴ: 'n', ᴏ: 'o',
    ᴘ: 'p', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z', ɡ: 'g',
    ß: 'ss', ẞ: 'ss', Ø: 'o', ø: 'o', Ł: 'l', ł: 'l', Đ: 'd', đ: 'd', Ħ: 'h', ħ: 'h', Æ: 'ae', æ: 'ae', Œ: 'oe',
    œ: 'oe', ı: 'i', Ð: 'd', ð: 'd', Þ: 'th', þ: 'th',
  }),
);

// Zero-width and other invisible format characters, variation selectors and tag characters:
// removed before anything else so that "S\u200BTOP" joins back into one word. Kept as code-point
// ranges because several of them are combining characters that a regex class would mangle.
const INVISIBLE_RANGES: readonly (readonly [number, number])[] = [
  [0x00ad, 0x00ad], [0x034f, 0x034f], [0x061c, 0x061c], [0x115f, 0x1160], [0x17b4, 0x17b5], [0x180b, 0x180f],
  [0x200b, 0x200f], [0x202a, 0x202e], [0x2060, 0x2064], [0x2066, 0x206f], [0x3164, 0x3164], [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff], [0xffa0, 0xffa0], [0xe0000, 0xe007f], [0xe0100, 0xe01ef],
];

function isInvisible(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  return INVISIBLE_RANGES.some(([from, to]) => cp >= from && cp <= to);
}

// Apostrophes join rather than split, so "don't" and "m'inscrire" stay one word.
const APOSTROPHES = /['‘’‛ʼʻ`´′＇]/gu;
const LATIN_COMBINING_MARKS = /[\u0300-\u036F]/g;
const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const WORD_OR_SIGNAL = new RegExp(`[\\p{L}\\p{M}\\p{N}]+|${SIGNAL_EMOJI.join('|')}`, 'gu');
const REPEATED_LETTER = /(\p{L})\1{2,}/gu;
const CLAUSE_BREAK = /[.!?;,:…\n\r¡¿。、]+|\s[-–—]+\s/u;

function prepare(text: string): string {
  let visible = '';
  for (const ch of text) if (!isInvisible(ch)) visible += ch;
  return visible.replace(APOSTROPHES, '').normalize('NFKC');
}

function foldLetters(text: string): string {
  const bare = text.normalize('NFD').replace(LATIN_COMBINING_MARKS, '');
  let folded = '';
  for (const ch of bare) folded += LETTER_FOLDS.get(ch) ?? ch;
  return folded.toLowerCase().normalize('NFC');
}

function wordsOf(prepared: string, pattern: RegExp): string[] {
  return foldLetters(prepared).match(pattern) ?? [];
}

/**
 * The matching key of an inbound message: NFKC, lower-case, invisible characters, punctuation,
 * emoji and Latin diacritics removed, look-alike letters mapped to Latin, words joined by one space.
 */
export function normalizeInboundText(text: string): string {
  return wordsOf(prepare(text), WORD).join(' ');
}

function classificationTokens(prepared: string): string[] {
  return wordsOf(prepared, WORD_OR_SIGNAL).map((w) => w.replace(REPEATED_LETTER, '$1'));
}

function keyOf(phrase: string): string {
  return classificationTokens(prepare(phrase)).join(' ');
}

interface LexiconEntry {
  readonly intent: CommandIntent;
  readonly phrase: string;
  readonly language?: KeywordLanguage;
  readonly weak: boolean;
}

interface CompiledPattern {
  readonly language?: KeywordLanguage;
  readonly leads: readonly (readonly string[])[];
  readonly gap: ReadonlySet<string>;
  readonly objects?: ReadonlySet<string>;
  readonly tails: readonly (readonly string[])[];
}

interface Lexicon {
  readonly entries: ReadonlyMap<string, LexiconEntry>;
  readonly longestPhrase: number;
  readonly patterns: readonly CompiledPattern[];
}

const TABLE_FIELDS: readonly (readonly [keyof KeywordExtensions, CommandIntent])[] = [
  ['optOut', 'opt_out'],
  ['optIn', 'opt_in'],
  ['help', 'help'],
  ['no', 'no'],
  ['yes', 'yes'],
];

function keysOf(words: readonly string[]): string[] {
  return words.map(keyOf).filter((k) => k.length > 0);
}

function compilePattern(p: OptOutPattern): CompiledPattern {
  return {
    language: p.language,
    leads: keysOf(p.lead).map((k) => k.split(' ')),
    gap: new Set(keysOf(p.gap ?? [])),
    objects: p.object ? new Set(keysOf(p.object)) : undefined,
    tails: keysOf(p.tail ?? []).map((k) => k.split(' ')),
  };
}

const WEAK_YES_KEYS: ReadonlySet<string> = new Set(keysOf(WEAK_YES_WORDS));
const FILLER_KEYS: ReadonlySet<string> = new Set(keysOf(FILLER_WORDS));
const NEGATION_KEYS: readonly (readonly string[])[] = keysOf(OPT_OUT_NEGATIONS).map((k) => k.split(' '));

function buildBaseLexicon(): Lexicon {
  const entries = new Map<string, LexiconEntry>();
  // Fields in priority order: when one word sits in two lists, the opt-out reading is kept.
  for (const [field, intent] of TABLE_FIELDS) {
    for (const table of KEYWORD_TABLES) {
      for (const phrase of keysOf(table[field])) {
        if (!entries.has(phrase)) {
          const language = SIGNAL_EMOJI.includes(phrase) ? undefined : table.language;
          entries.set(phrase, { intent, phrase, language, weak: intent === 'yes' && WEAK_YES_KEYS.has(phrase) });
        }
      }
    }
  }
  return { entries, longestPhrase: longestOf(entries.keys()), patterns: OPT_OUT_PATTERNS.map(compilePattern) };
}

function longestOf(keys: Iterable<string>): number {
  let longest = 1;
  for (const k of keys) longest = Math.max(longest, k.split(' ').length);
  return longest;
}

const BASE_LEXICON = buildBaseLexicon();

function lexiconWith(extensions: KeywordExtensions | undefined): Lexicon {
  if (!extensions || TABLE_FIELDS.every(([field]) => (extensions[field] ?? []).length === 0)) return BASE_LEXICON;
  const entries = new Map(BASE_LEXICON.entries);
  const extraPatterns: CompiledPattern[] = [];
  for (const [field, intent] of TABLE_FIELDS) {
    for (const phrase of keysOf(extensions[field] ?? [])) {
      // A business may add words and re-purpose ordinary ones, but never demote an opt-out word.
      if (entries.get(phrase)?.intent === 'opt_out') continue;
      entries.set(phrase, { intent, phrase, weak: false });
      if (intent === 'opt_out' && phrase.includes(' ')) {
        extraPatterns.push({ leads: [phrase.split(' ')], gap: new Set(), tails: [] });
      }
    }
  }
  return { entries, longestPhrase: longestOf(entries.keys()), patterns: [...BASE_LEXICON.patterns, ...extraPatterns] };
}

interface Decision {
  readonly intent: InboundIntent;
  readonly matched?: string;
  readonly language?: KeywordLanguage;
}

/** Covers every token with keywords and fillers; undefined when some token is neither. */
function segment(tokens: readonly string[], lexicon: Lexicon): LexiconEntry[] | undefined {
  const memo = new Map<number, LexiconEntry[] | null>();
  const from = (i: number): LexiconEntry[] | null => {
    if (i === tokens.length) return [];
    const known = memo.get(i);
    if (known !== undefined) return known;
    let found: LexiconEntry[] | null = null;
    for (let len = Math.min(lexicon.longestPhrase, tokens.length - i); len >= 1 && !found; len--) {
      const key = tokens.slice(i, i + len).join(' ');
      const entry = lexicon.entries.get(key);
      if (entry) {
        const rest = from(i + len);
        if (rest) found = [entry, ...rest];
      }
      if (!found && FILLER_KEYS.has(key)) found = from(i + len);
    }
    memo.set(i, found);
    return found;
  };
  return from(0) ?? undefined;
}

function decide(hits: readonly LexiconEntry[]): Decision | undefined {
  if (hits.length === 0) return undefined;
  const pick = (intent: CommandIntent): Decision => {
    const ofIntent = hits.filter((h) => h.intent === intent);
    const best = ofIntent.find((h) => !SIGNAL_EMOJI.includes(h.phrase)) ?? ofIntent[0];
    return { intent, matched: best.phrase, language: best.language };
  };
  if (hits.some((h) => h.intent === 'opt_out')) return pick('opt_out');
  const strong = new Set(hits.filter((h) => !h.weak).map((h) => h.intent));
  if (strong.has('opt_in')) strong.delete('yes');
  if (strong.size === 0) return pick('yes');
  if (strong.size > 1) return { intent: 'other' };
  return pick([...strong][0]);
}

function command(tokens: readonly string[], lexicon: Lexicon): Decision | undefined {
  if (tokens.length === 0 || tokens.length > MAX_COMMAND_TOKENS) return undefined;
  const hits = segment(tokens, lexicon);
  if (hits) return decide(hits);
  // "S T O P" and "S.T.O.P" spell a keyword one letter at a time.
  if (tokens.length >= 3 && tokens.every((t) => [...t].length === 1)) {
    const spelled = segment([tokens.join('')], lexicon);
    if (spelled) return decide(spelled);
  }
  return undefined;
}

function startsWith(tokens: readonly string[], at: number, phrase: readonly string[]): boolean {
  if (at < 0 || at + phrase.length > tokens.length) return false;
  return phrase.every((t, k) => tokens[at + k] === t);
}

function isNegatedAt(tokens: readonly string[], at: number): boolean {
  return NEGATION_KEYS.some((n) => startsWith(tokens, at - n.length, n));
}

/** End index of a pattern match starting at `at` after `lead`, or -1. */
function matchRest(tokens: readonly string[], at: number, p: CompiledPattern): number {
  if (!p.objects) return at;
  for (let gap = 0; gap <= MAX_GAP_WORDS && at + gap < tokens.length; gap++) {
    if (gap > 0 && !p.gap.has(tokens[at + gap - 1])) break;
    if (!p.objects.has(tokens[at + gap])) continue;
    const end = at + gap + 1;
    if (p.tails.length === 0) return end;
    const tail = p.tails.find((t) => startsWith(tokens, end, t));
    if (tail) return end + tail.length;
  }
  return -1;
}

function findOptOutPhrase(tokens: readonly string[], lexicon: Lexicon): Decision | undefined {
  for (let i = 0; i < tokens.length; i++) {
    for (const p of lexicon.patterns) {
      for (const lead of p.leads) {
        if (!startsWith(tokens, i, lead)) continue;
        const end = matchRest(tokens, i + lead.length, p);
        if (end >= 0 && !isNegatedAt(tokens, i)) {
          return { intent: 'opt_out', matched: tokens.slice(i, end).join(' '), language: p.language };
        }
      }
    }
  }
  return undefined;
}

export function classifyInbound(text: string, extensions?: KeywordExtensions): InboundClassification {
  const prepared = prepare(text);
  const normalized = wordsOf(prepared, WORD).join(' ');
  const lexicon = lexiconWith(extensions);
  const answer = (d: Decision | undefined): InboundClassification => {
    if (!d || d.intent === 'other') return { intent: 'other', normalized };
    const result: InboundClassification = { intent: d.intent, normalized };
    if (d.matched !== undefined) result.matched = d.matched;
    if (d.language !== undefined) result.language = d.language;
    return result;
  };

  const whole = command(classificationTokens(prepared), lexicon);
  if (whole?.intent === 'opt_out') return answer(whole);

  const clauses = prepared.split(CLAUSE_BREAK).map(classificationTokens).filter((c) => c.length > 0);
  for (const clause of clauses) {
    const phrase = findOptOutPhrase(clause, lexicon);
    if (phrase) return answer(phrase);
  }
  for (const clause of clauses) {
    const clauseCommand = command(clause, lexicon);
    if (clauseCommand?.intent === 'opt_out') return answer(clauseCommand);
  }
  return answer(whole);
}

/** Intent of a quick-reply button press; unknown payloads are other, never guessed from text. */
export function classifyButtonPayload(payload: string): InboundIntent {
  switch (payload.trim().toLowerCase()) {
    case BUTTON_PAYLOADS.yes:
      return 'yes';
    case BUTTON_PAYLOADS.no:
      return 'no';
    case BUTTON_PAYLOADS.stop:
      return 'opt_out';
    default:
      return 'other';
  }
}
