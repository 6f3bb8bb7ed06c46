import { isObviouslyInternal, isPublicAddress } from '../../lib/address-policy';

/** Which receiver addresses count as internal (SSRF guard of the consent-change event endpoints). */

test.each([
  ['127.0.0.1'],
  ['127.8.9.10'],
  ['10.1.2.3'],
  ['172.16.0.1'],
  ['172.31.255.255'],
  ['192.168.1.1'],
  ['169.254.169.254'],
  ['100.64.0.1'],
  ['0.0.0.0'],
  ['224.0.0.1'],
  ['::1'],
  ['::'],
  ['fd00::1'],
  ['fe80::1'],
  ['::ffff:127.0.0.1'],
  ['::ffff:10.0.0.1'],
  ['not-an-ip'],
])('%s is not public', (ip) => {
  expect(isPublicAddress(ip)).toBe(false);
});

test.each([['8.8.8.8'], ['203.0.113.5'], ['172.32.0.1'], ['2001:4860:4860::8888'], ['::ffff:8.8.4.4']])('%s is public', (ip) => {
  expect(isPublicAddress(ip)).toBe(true);
});

test('URLs: literal internal hosts and local names are internal; other names wait for their lookup', () => {
  for (const u of ['http://127.0.0.1:9/x', 'http://[::1]/x', 'https://169.254.169.254/latest', 'http://localhost:3000/', 'http://api.localhost/', 'http://printer.local/', 'http://metadata.google.internal/', 'http://[::ffff:7f00:1]/']) {
    expect([u, isObviouslyInternal(new URL(u))]).toEqual([u, true]);
  }
  for (const u of ['https://hooks.example.com/consent', 'http://203.0.113.5/x', 'https://[2001:db8::1]/x']) {
    expect([u, isObviouslyInternal(new URL(u))]).toEqual([u, false]);
  }
});
