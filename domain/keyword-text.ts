/**
 * The matching key of inbound text and of listed words. Both go through the same steps, so a listed
 * word matches however the contact types it: any case, accents, look-alike letters, invisible characters.
 *
 * Pure and deterministic: also bundled into workflows.
 */

import { SIGNAL_EMOJI } from './keyword-tables';

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
export const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const WORD_OR_SIGNAL = new RegExp(`[\\p{L}\\p{M}\\p{N}]+|${SIGNAL_EMOJI.join('|')}`, 'gu');
const REPEATED_LETTER = /(\p{L})\1{2,}/gu;

export function prepare(text: string): string {
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

export function wordsOf(prepared: string, pattern: RegExp): string[] {
  return foldLetters(prepared).match(pattern) ?? [];
}

export function classificationTokens(prepared: string): string[] {
  return wordsOf(prepared, WORD_OR_SIGNAL).map((w) => w.replace(REPEATED_LETTER, '$1'));
}

export function keyOf(phrase: string): string {
  return classificationTokens(prepare(phrase)).join(' ');
}
