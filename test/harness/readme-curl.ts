import { readFileSync } from 'node:fs';

export interface CurlExample {
  method: string;
  url: URL;
  /** The -d body, parsed when it is JSON. */
  body?: unknown;
  /** The command as written, to name it in a failure. */
  source: string;
}

/** Splits shell text into commands of words: quotes (which may span lines), backslash-newline, comments. */
function shellCommands(text: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '\\' && text[i + 1] === '\n') {
      i++;
    } else if (c === '#' && word === undefined) {
      while (i < text.length && text[i] !== '\n') i++;
      i--;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
      if (c === '\n' && words.length) {
        commands.push(words);
        words = [];
      }
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  if (words.length) commands.push(words);
  return commands;
}

/** Every curl command in the fenced code blocks of a Markdown file. */
export function curlExamples(markdownPath: string): CurlExample[] {
  const md = readFileSync(markdownPath, 'utf8');
  const blocks = [...md.matchAll(/```(?:sh|bash|shell)?\n([\s\S]*?)```/g)].map((m) => m[1]);
  const examples: CurlExample[] = [];
  for (const block of blocks) {
    for (const words of shellCommands(block)) {
      if (words[0] !== 'curl') continue;
      let method: string | undefined;
      let url: URL | undefined;
      let data: string | undefined;
      for (let i = 1; i < words.length; i++) {
        const w = words[i];
        if (w === '-X' || w === '--request') method = words[++i];
        else if (w === '-d' || w === '--data' || w === '--data-raw') data = words[++i];
        else if (w === '-H' || w === '--header') i++;
        else if (/^https?:\/\//.test(w)) url = new URL(w);
      }
      if (!url) continue;
      let body: unknown = data;
      try {
        body = data === undefined ? undefined : JSON.parse(data);
      } catch {
        // Not JSON: the test reports it as such.
      }
      examples.push({ method: method ?? (data === undefined ? 'GET' : 'POST'), url, body, source: words.join(' ').slice(0, 160) });
    }
  }
  return examples;
}
