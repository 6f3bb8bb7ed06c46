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

import { SIGNAL_EMOJI, type KeywordLanguage } from './keyword-tables';
import { FILLER_KEYS, NEGATION_KEYS, lexiconWith, type CompiledPattern, type Lexicon, type LexiconEntry } from './keyword-lexicon';
import { WORD, classificationTokens, prepare, wordsOf } from './keyword-text';

export type InboundIntent = 'opt_out' | 'opt_in' | 'help' | 'yes' | 'no' | 'other';

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

export type CommandIntent = Exclude<InboundIntent, 'other'>;

/** WhatsApp quick-reply payloads we send; their ids are ours, so they are matched exactly. */
export const BUTTON_PAYLOADS: { readonly yes: 'yes'; readonly no: 'no'; readonly stop: 'stop' } = Object.freeze({
  yes: 'yes',
  no: 'no',
  stop: 'stop',
} as const);

const MAX_COMMAND_TOKENS = 12;
const MAX_GAP_WORDS = 4;
const CLAUSE_BREAK = /[.!?;,:…\n\r¡¿。、]+|\s[-–—]+\s/u;

/**
 * The matching key of an inbound message: NFKC, lower-case, invisible characters, punctuation,
 * emoji and Latin diacritics removed, look-alike letters mapped to Latin, words joined by one space.
 */
export function normalizeInboundText(text: string): string {
  return wordsOf(prepare(text), WORD).join(' ');
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
