import { readFileSync } from 'node:fs';

/**
 * Looks for personal data in log files: every line as written, and every string inside it once its
 * JSON is parsed (so an escaped body or a nested error message is read as the text it carries).
 */

export interface LogLeak {
  file: string;
  line: number;
  needle: string;
  text: string;
}

function stringsIn(value: unknown, out: string[]): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, out);
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) stringsIn([key, item], out);
  return out;
}

function readings(line: string): string[] {
  try {
    return [line, ...stringsIn(JSON.parse(line), [])];
  } catch {
    return [line];
  }
}

/** Every line of the files that contains one of the needles; each needle is matched case-insensitively. */
export function findLeaks(files: readonly string[], needles: readonly string[]): LogLeak[] {
  const wanted = needles.filter((n) => n.length > 0).map((n) => [n, n.toLowerCase()] as const);
  const leaks: LogLeak[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      const texts = readings(line).map((t) => t.toLowerCase());
      for (const [needle, lower] of wanted) {
        if (texts.some((t) => t.includes(lower))) leaks.push({ file, line: index + 1, needle, text: line.length > 300 ? `${line.slice(0, 300)}…` : line });
      }
    });
  }
  return leaks;
}

/**
 * The forms a phone number takes in text: its national digits cover E.164 (+14155550101), the
 * URL-encoded form (%2B14155550101) and `whatsapp:+1…`; the grouped forms are as people type them.
 */
export function phoneNeedles(e164: string): string[] {
  const national = e164.replace(/^\+1/, '');
  return [national, `${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`, `${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`];
}

/** The local part alone finds the address however it was encoded (`%40`, quoted, in a URL). */
export function emailNeedles(email: string): string[] {
  return [email, email.split('@')[0]];
}

/** Pieces of a message body long enough to be that body and nothing else; links are left out (a page's own request logs its path). */
export function bodyNeedles(body: string, minLength = 20): string[] {
  return body
    .split(/\n|https?:\/\/\S+/)
    .map((piece) => piece.trim())
    .filter((piece) => piece.length >= minLength);
}
