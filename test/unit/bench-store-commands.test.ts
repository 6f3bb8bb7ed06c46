import { commandsPer, describeCommandsPer, formatCommandsPer, parseCommandCounts, totalCommandsPer } from '../../bench/store-commands';

// FerretDB's debug listener, as its /debug/metrics answers: one counter per command and opcode.
const metrics = (find: number, update: number) => `# HELP ferretdb_client_requests_total Total number of requests.
# TYPE ferretdb_client_requests_total counter
ferretdb_client_requests_total{command="find",opcode="OP_MSG"} ${find}
ferretdb_client_requests_total{command="update",opcode="OP_MSG"} ${update}
ferretdb_client_requests_total{command="unknown",opcode="OP_QUERY"} 7
ferretdb_client_responses_total{argument="unknown",command="find",opcode="OP_MSG",result="ok"} 999
`;

test('reads the request counters by command, summing opcodes, and ignores the response counters', () => {
  const counts = parseCommandCounts(metrics(120, 40) + 'ferretdb_client_requests_total{command="find",opcode="OP_QUERY"} 3\n');
  expect(counts).toEqual(new Map([['find', 123], ['update', 40], ['unknown', 7]]));
});

test('gives what a pass added per unit, largest first, leaving out commands it did not send', () => {
  const per = commandsPer(parseCommandCounts(metrics(100, 40)), parseCommandCounts(metrics(300, 140)), 10);
  expect(per).toEqual([['find', 20], ['update', 10]]);
  expect(formatCommandsPer(per)).toBe('30.0 (find 20.0, update 10.0)');
});

test('says when there was nothing to count', () => {
  expect(describeCommandsPer(undefined, new Map(), 10)).toMatch(/^not counted/);
  expect(describeCommandsPer(new Map([['find', 1]]), new Map([['find', 5]]), 2)).toBe('2.0 (find 2.0), as FerretDB counted them');
});

test('totals a pass per unit for the side-by-side summary, NaN when the store was not counted', () => {
  expect(totalCommandsPer(parseCommandCounts(metrics(100, 40)), parseCommandCounts(metrics(300, 140)), 10)).toBe(30);
  expect(totalCommandsPer(undefined, new Map([['find', 5]]), 2)).toBeNaN();
});
