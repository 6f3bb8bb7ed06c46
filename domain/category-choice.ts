/**
 * The in-thread category question: a contact who writes START with nothing running is asked which
 * categories they want (WhatsApp buttons, or a numbered list), and their reply is read here.
 *
 * Pure and deterministic: the category choice workflow parses replies with it.
 */

/** WhatsApp quick-reply payloads of the category question; they are ours, so they are matched exactly. */
export const CATEGORY_BUTTON_PREFIX = 'category:';
export const ALL_CATEGORIES_PAYLOAD = `${CATEGORY_BUTTON_PREFIX}all`;

/** A quick-reply message holds at most 10 buttons: one per category plus All. */
export const MAX_CATEGORY_BUTTONS = 9;

export function categoryButtonPayload(categoryId: string): string {
  return `${CATEGORY_BUTTON_PREFIX}${categoryId}`;
}

export interface OfferedCategory {
  id: string;
  label: string;
}

export interface CategoryReply {
  text?: string;
  buttonPayload?: string;
}

export type CategoryChoice =
  | { kind: 'chosen'; categories: string[]; all: boolean; via: 'button' | 'text' }
  | { kind: 'invalid'; reason: string };

const ALL_WORDS = new Set(['all', 'all of them', 'everything', 'todo', 'todos', 'todas', 'tout', 'tous', 'toutes']);
const JOINERS = new Set(['and', 'y', 'e', 'et', '&', '+']);

function normalise(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u200b-\u200d\ufeff]/g, '')
    .replace(/[.!?"'`]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function invalid(reason: string): CategoryChoice {
  return { kind: 'invalid', reason };
}

/**
 * Reads the contact's answer to the category question. A button payload decides alone (its text is
 * never guessed from); a text reply is ALL (or a localised "all"), or numbers of the list (`1`,
 * `1,3`, `1 3`, `1 and 3`), or category names, in any mix. Anything else is invalid, and so is a
 * reply with one part we cannot read: half-understood consent is not consent.
 */
export function parseCategoryChoice(reply: CategoryReply, offered: readonly OfferedCategory[]): CategoryChoice {
  if (offered.length === 0) return invalid('no categories were offered');
  const ids = offered.map((c) => c.id);

  if (reply.buttonPayload !== undefined && reply.buttonPayload.trim() !== '') {
    const payload = reply.buttonPayload.trim().toLowerCase();
    if (payload === ALL_CATEGORIES_PAYLOAD) return { kind: 'chosen', categories: ids, all: true, via: 'button' };
    const id = payload.startsWith(CATEGORY_BUTTON_PREFIX) ? payload.slice(CATEGORY_BUTTON_PREFIX.length) : undefined;
    if (id !== undefined && ids.includes(id)) return { kind: 'chosen', categories: [id], all: ids.length === 1, via: 'button' };
    return invalid(`unknown button payload "${reply.buttonPayload}"`);
  }

  const text = normalise(reply.text ?? '');
  if (text === '') return invalid('empty reply');
  if (ALL_WORDS.has(text)) return { kind: 'chosen', categories: ids, all: true, via: 'text' };

  const byName = new Map<string, string>();
  for (const c of offered) {
    byName.set(normalise(c.id), c.id);
    byName.set(normalise(c.id.replace(/[_-]+/g, ' ')), c.id);
    byName.set(normalise(c.label), c.id);
  }

  const chosen = new Set<string>();
  let all = false;
  // Parts are split on commas and the like first, so a category name of several words stays whole.
  for (const part of text.split(/[,;/\n]+/).map((p) => p.trim()).filter(Boolean)) {
    const named = byName.get(part);
    if (named) {
      chosen.add(named);
      continue;
    }
    if (ALL_WORDS.has(part)) {
      all = true;
      continue;
    }
    for (const token of part.split(/[\s.]+/).filter((t) => t && !JOINERS.has(t))) {
      if (ALL_WORDS.has(token)) {
        all = true;
        continue;
      }
      const tokenNamed = byName.get(token);
      if (tokenNamed) {
        chosen.add(tokenNamed);
        continue;
      }
      if (!/^\d{1,2}$/.test(token)) return invalid(`"${token}" is not a number from the list`);
      const n = Number(token);
      if (n < 1 || n > ids.length) return invalid(`${n} is not between 1 and ${ids.length}`);
      chosen.add(ids[n - 1]);
    }
  }
  if (all) return { kind: 'chosen', categories: ids, all: true, via: 'text' };
  if (chosen.size === 0) return invalid('no category in the reply');
  const categories = ids.filter((id) => chosen.has(id));
  return { kind: 'chosen', categories, all: categories.length === ids.length, via: 'text' };
}
