/**
 * The built-in word lists the inbound classifier (domain/keywords.ts) matches against. They live apart
 * from the matching rules so that extending a list never means reading the algorithm; docs/keywords.md
 * copies them for readers, and this file is the source of truth.
 *
 * Pure data: also bundled into workflows.
 */

export type KeywordLanguage = 'en' | 'es' | 'fr' | 'de' | 'pt' | 'it' | 'nl';

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
 * MAX_GAP_WORDS (domain/keywords.ts) gap words, then an object word, then a required tail phrase.
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
