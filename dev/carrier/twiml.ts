/**
 * A small XML reader for the TwiML the carrier has to understand (Response, Say, Gather, Redirect,
 * Hangup, Pause, Play, Message). It accepts well-formed documents only, like Twilio does.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

export class TwimlParseError extends Error {}

const namedEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return namedEntities[entity] ?? whole;
  });
}

const nameChars = /[A-Za-z0-9_:.-]/;

export function parseXml(source: string): XmlElement {
  let pos = 0;
  const root: XmlElement = { name: '#document', attrs: {}, children: [] };
  const stack: XmlElement[] = [root];

  const fail = (why: string): never => {
    throw new TwimlParseError(`${why} at offset ${pos}`);
  };

  const readName = (): string => {
    const start = pos;
    while (pos < source.length && nameChars.test(source[pos])) pos++;
    if (pos === start) fail('expected a name');
    return source.slice(start, pos);
  };

  const skipSpace = () => {
    while (pos < source.length && /\s/.test(source[pos])) pos++;
  };

  while (pos < source.length) {
    const current = stack[stack.length - 1];
    if (source.startsWith('<?', pos)) {
      const end = source.indexOf('?>', pos);
      if (end < 0) fail('unterminated declaration');
      pos = end + 2;
    } else if (source.startsWith('<!--', pos)) {
      const end = source.indexOf('-->', pos);
      if (end < 0) fail('unterminated comment');
      pos = end + 3;
    } else if (source.startsWith('<![CDATA[', pos)) {
      const end = source.indexOf(']]>', pos);
      if (end < 0) fail('unterminated CDATA');
      current.children.push(source.slice(pos + 9, end));
      pos = end + 3;
    } else if (source.startsWith('<!', pos)) {
      const end = source.indexOf('>', pos);
      if (end < 0) fail('unterminated doctype');
      pos = end + 1;
    } else if (source.startsWith('</', pos)) {
      pos += 2;
      const name = readName();
      skipSpace();
      if (source[pos] !== '>') fail('expected >');
      pos++;
      if (stack.length === 1 || current.name !== name) fail(`unexpected </${name}>`);
      stack.pop();
    } else if (source[pos] === '<') {
      pos++;
      const element: XmlElement = { name: readName(), attrs: {}, children: [] };
      for (;;) {
        skipSpace();
        if (source.startsWith('/>', pos)) {
          pos += 2;
          current.children.push(element);
          break;
        }
        if (source[pos] === '>') {
          pos++;
          current.children.push(element);
          stack.push(element);
          break;
        }
        if (pos >= source.length) fail('unterminated tag');
        const attr = readName();
        skipSpace();
        if (source[pos] !== '=') fail(`expected = after ${attr}`);
        pos++;
        skipSpace();
        const quote = source[pos];
        if (quote !== '"' && quote !== "'") fail('expected a quoted attribute value');
        const end = source.indexOf(quote, pos + 1);
        if (end < 0) fail('unterminated attribute value');
        element.attrs[attr] = decodeEntities(source.slice(pos + 1, end));
        pos = end + 1;
      }
    } else {
      const end = source.indexOf('<', pos);
      const text = source.slice(pos, end < 0 ? source.length : end);
      if (stack.length === 1 && text.trim() !== '') fail('text outside the root element');
      if (stack.length > 1) current.children.push(decodeEntities(text));
      pos = end < 0 ? source.length : end;
    }
  }
  if (stack.length > 1) fail(`unclosed <${stack[stack.length - 1].name}>`);
  const elements = root.children.filter((c): c is XmlElement => typeof c !== 'string');
  if (elements.length !== 1) fail('expected exactly one root element');
  return elements[0];
}

export function elementsOf(node: XmlElement): XmlElement[] {
  return node.children.filter((c): c is XmlElement => typeof c !== 'string');
}

export function textOf(node: XmlElement): string {
  return node.children
    .map((c) => (typeof c === 'string' ? c : textOf(c)))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The verbs of a TwiML document: the children of its `<Response>`. */
export function parseTwiml(source: string): XmlElement[] {
  const root = parseXml(source);
  if (root.name !== 'Response') throw new TwimlParseError(`root element is <${root.name}>, expected <Response>`);
  return elementsOf(root);
}
