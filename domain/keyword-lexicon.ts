/**
 * The lexicon the classifier matches against: the built-in tables compiled once into matching keys,
 * plus a business's extensions when it has any.
 *
 * Pure and deterministic: also bundled into workflows.
 */

import {
  FILLER_WORDS,
  KEYWORD_TABLES,
  OPT_OUT_NEGATIONS,
  OPT_OUT_PATTERNS,
  SIGNAL_EMOJI,
  WEAK_YES_WORDS,
  type KeywordLanguage,
  type OptOutPattern,
} from './keyword-tables';
import { keyOf } from './keyword-text';
import type { CommandIntent, KeywordExtensions } from './keywords';

export interface LexiconEntry {
  readonly intent: CommandIntent;
  readonly phrase: string;
  readonly language?: KeywordLanguage;
  readonly weak: boolean;
}

export interface CompiledPattern {
  readonly language?: KeywordLanguage;
  readonly leads: readonly (readonly string[])[];
  readonly gap: ReadonlySet<string>;
  readonly objects?: ReadonlySet<string>;
  readonly tails: readonly (readonly string[])[];
}

export interface Lexicon {
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
export const FILLER_KEYS: ReadonlySet<string> = new Set(keysOf(FILLER_WORDS));
export const NEGATION_KEYS: readonly (readonly string[])[] = keysOf(OPT_OUT_NEGATIONS).map((k) => k.split(' '));

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

export function lexiconWith(extensions: KeywordExtensions | undefined): Lexicon {
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
