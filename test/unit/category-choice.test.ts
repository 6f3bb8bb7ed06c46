import { ALL_CATEGORIES_PAYLOAD, categoryButtonPayload, parseCategoryChoice, type CategoryChoice } from '../../domain/category-choice';
import { parseBusinesses } from '../../domain/business';
import { categoryClarifyText, categoryQuestionText } from '../../domain/messages';

const OFFERED = [
  { id: 'order_updates', label: 'Order updates' },
  { id: 'offers', label: 'Offers and promotions' },
  { id: 'recommendations', label: 'Product recommendations' },
];
const ALL = ['order_updates', 'offers', 'recommendations'];

const chosen = (categories: string[], via: 'text' | 'button' = 'text'): CategoryChoice => ({ kind: 'chosen', categories, all: categories.length === ALL.length, via });

describe('text replies', () => {
  test.each<[string, string[]]>([
    ['1', ['order_updates']],
    ['3', ['recommendations']],
    ['1,3', ['order_updates', 'recommendations']],
    ['1, 3', ['order_updates', 'recommendations']],
    ['1 3', ['order_updates', 'recommendations']],
    ['3,1', ['order_updates', 'recommendations']],
    ['1 and 3', ['order_updates', 'recommendations']],
    ['1;2', ['order_updates', 'offers']],
    ['1,1', ['order_updates']],
    ['1,2,3', ALL],
    [' 2. ', ['offers']],
    ['all', ALL],
    ['ALL', ALL],
    ['All!', ALL],
    ['everything', ALL],
    ['todo', ALL],
    ['TOUT', ALL],
    ['1, all', ALL],
    ['offers', ['offers']],
    ['Order updates', ['order_updates']],
    ['order updates, offers', ['order_updates', 'offers']],
    ['Product recommendations', ['recommendations']],
    ['１', ['order_updates']],
  ])('%j → %j', (text, categories) => {
    expect(parseCategoryChoice({ text }, OFFERED)).toEqual(chosen(categories));
  });

  test.each([['0'], ['4'], ['13'], ['1,4'], ['yes'], ['START'], ['maybe'], ['1 maybe'], [''], ['   '], ['one'], ['-1'], ['1.5x']])('%j is invalid', (text) => {
    expect(parseCategoryChoice({ text }, OFFERED)).toMatchObject({ kind: 'invalid' });
  });

  test('no text at all is invalid', () => {
    expect(parseCategoryChoice({}, OFFERED)).toMatchObject({ kind: 'invalid', reason: 'empty reply' });
  });
});

describe('button payloads', () => {
  test.each<[string, string[]]>([
    [categoryButtonPayload('order_updates'), ['order_updates']],
    [categoryButtonPayload('offers'), ['offers']],
    ['CATEGORY:OFFERS ', ['offers']],
    [ALL_CATEGORIES_PAYLOAD, ALL],
  ])('%j → %j', (buttonPayload, categories) => {
    expect(parseCategoryChoice({ buttonPayload, text: 'whatever the title says' }, OFFERED)).toEqual(chosen(categories, 'button'));
  });

  test.each([['category:newsletters'], ['yes'], ['stop'], ['1']])('%j is invalid and never guessed from the text', (buttonPayload) => {
    expect(parseCategoryChoice({ buttonPayload, text: 'All' }, OFFERED)).toMatchObject({ kind: 'invalid' });
  });

  test('an empty payload falls back to the text', () => {
    expect(parseCategoryChoice({ buttonPayload: '', text: '2' }, OFFERED)).toEqual(chosen(['offers']));
  });
});

test('a single offered category: 1 and ALL both choose it', () => {
  const one = [OFFERED[1]];
  expect(parseCategoryChoice({ text: '1' }, one)).toEqual({ kind: 'chosen', categories: ['offers'], all: true, via: 'text' });
  expect(parseCategoryChoice({ text: 'all' }, one)).toEqual({ kind: 'chosen', categories: ['offers'], all: true, via: 'text' });
  expect(parseCategoryChoice({ text: '2' }, one)).toMatchObject({ kind: 'invalid' });
});

describe('question texts', () => {
  const [business] = parseBusinesses({
    businesses: [
      {
        id: 'acme',
        name: 'Acme Outdoor Supplies',
        senders: { sms: '+15005550006', whatsapp: '+15005550007', voice: '+15005550008', email: 'hello@acme.example' },
        categories: OFFERED,
        whatsappTemplates: { optinRequest: 'HX1', confirmation: 'HX2', optoutConfirmation: 'HX3' },
        whatsappQuickReplyContent: 'HX4',
      },
    ],
  });

  test('the numbered list names the business and WhatsApp, every category by number, several, ALL and STOP', () => {
    expect(categoryQuestionText({ business, categories: ALL, locale: 'en' }, false)).toBe(
      'Acme Outdoor Supplies: which messages would you like from us on WhatsApp? Reply 1 for Order updates, 2 for Offers and promotions, 3 for Product recommendations, 1,3 for several, ALL for all. Reply STOP to opt out.',
    );
  });

  test('with buttons the text says to tap, and still reads the numbers', () => {
    const text = categoryQuestionText({ business, categories: ALL, locale: 'en' }, true);
    expect(text).toContain('Tap one below, or reply 1 for Order updates');
    expect(text).toContain('WhatsApp');
  });

  test('every number the text offers parses to its category', () => {
    for (const locale of ['en', 'es', 'fr'] as const) {
      const text = categoryQuestionText({ business, categories: ALL, locale }, false);
      expect(text).toContain(business.name);
      ALL.forEach((_, i) => expect(text).toContain(`${i + 1} `));
      const allWord = { en: 'ALL', es: 'TODO', fr: 'TOUT' }[locale];
      expect(text).toContain(allWord);
      expect(parseCategoryChoice({ text: allWord }, OFFERED)).toMatchObject({ kind: 'chosen', all: true });
    }
  });

  test('the clarification repeats how to answer', () => {
    expect(categoryClarifyText({ business, categories: ALL, locale: 'en' })).toMatch(/^Acme Outdoor Supplies: sorry, we did not understand which messages you want\. Reply 1 for Order updates, .* ALL for all\. Reply STOP to opt out\.$/);
  });
});
