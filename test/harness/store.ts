import { connectStore, type Store } from '../../store/models';
import { testMongoUri, uniqueName } from './servers';

/** A store on a database of its own for one test file's tests, dropped after them; read it inside a test. */
export function storeForFile(): () => Store {
  let store: Store | undefined;
  beforeAll(async () => {
    store = await connectStore(testMongoUri(uniqueName('db')));
  });
  afterAll(async () => {
    await store?.connection.dropDatabase();
    await store?.connection.close();
  });
  return () => {
    if (!store) throw new Error('the store is connected in beforeAll');
    return store;
  };
}
