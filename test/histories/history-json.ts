import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/**
 * Proto3 JSON for workflow histories, the format `temporal workflow show --output json` writes.
 *
 * @temporalio/common's historyToJSON/historyFromJSON throw "type must be a Type" in this install:
 * grpc keeps protobufjs 7 at the top of node_modules, so @temporalio/common and @temporalio/proto
 * each get their own copy of protobufjs 8, and common's `instanceof Type` check fails on proto's
 * types. We use the protojson of the very copy @temporalio/proto loaded, whatever the layout.
 */

type History = proto.temporal.api.history.v1.History;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
const historyType = (patchProtobufRoot(proto) as any).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: proto.temporal.api.history.v1.IHistory): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new TypeError('not a workflow history: no events');
  return history;
}
