import { EMPTY_CHAIN } from '../../store/ledger-chain';
import { readHead } from '../../store/ledger-heads';
import type { Store } from '../../store/models';

/** A store whose contacts have no head document yet, and whose first look for link documents fails. */
function storeFailingOnce() {
  let linkReads = 0;
  const collections: Record<string, { findOne: () => Promise<unknown> }> = {
    ledger_heads: { findOne: async () => null },
    ledger_links: {
      findOne: async () => {
        linkReads++;
        if (linkReads === 1) throw new Error('store unreachable');
        return null;
      },
    },
  };
  const store = { connection: { collection: (name: string) => collections[name] } } as unknown as Store;
  return { store, linkReads: () => linkReads };
}

test('a failed look for the previous version\'s link documents is asked again, not remembered', async () => {
  const s = storeFailingOnce();
  await expect(readHead(s.store, 'b:+15550000001')).rejects.toThrow('store unreachable');
  await expect(readHead(s.store, 'b:+15550000002')).resolves.toEqual({ head: EMPTY_CHAIN, stored: false });
  // The answer, once known, is kept: a third contact does not ask again.
  await expect(readHead(s.store, 'b:+15550000003')).resolves.toEqual({ head: EMPTY_CHAIN, stored: false });
  expect(s.linkReads()).toBe(2);
});
