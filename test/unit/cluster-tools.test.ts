import path from 'node:path';
import { parse } from 'yaml';
import { clusterToolPaths } from '../../dev/cluster/tools';
import { uiConfigYaml } from '../../dev/cluster/ui';
import { profilesOption } from '../../bench/profiles';

/** The cluster profile's pure pieces: where its tools are looked for, the UI's config, the benchmarks' --profiles. */

describe('clusterToolPaths', () => {
  it('finds the tools under .tools by default', () => {
    const t = clusterToolPaths('/repo', { POSTGRES_BIN_DIR: '/pg/bin' });
    expect(t).toEqual({
      serverBin: path.join('/repo', '.tools', 'bin', 'temporal-server'),
      sqlToolBin: path.join('/repo', '.tools', 'bin', 'temporal-sql-tool'),
      schemaDir: path.join('/repo', '.tools', 'temporal-schema'),
      uiServerBin: path.join('/repo', '.tools', 'bin', 'temporal-ui-server'),
      postgresBinDir: '/pg/bin',
    });
  });

  it('honours the override variables', () => {
    const t = clusterToolPaths('/repo', { TEMPORAL_SERVER_PATH: '/x/server', TEMPORAL_SQL_TOOL_PATH: '/x/sql', TEMPORAL_UI_SERVER_PATH: '/x/ui', POSTGRES_BIN_DIR: '/pg' });
    expect([t.serverBin, t.sqlToolBin, t.uiServerBin, t.postgresBinDir]).toEqual(['/x/server', '/x/sql', '/x/ui', '/pg']);
  });
});

describe('uiConfigYaml', () => {
  it('points the UI at the frontend, on the given address', () => {
    const c = parse(uiConfigYaml({ frontendAddress: '127.0.0.1:7233', host: '127.0.0.1', port: 8233 }));
    expect(c).toMatchObject({ temporalGrpcAddress: '127.0.0.1:7233', host: '127.0.0.1', port: 8233, enableUi: true, defaultNamespace: 'default' });
  });
});

describe('profilesOption', () => {
  it('takes --profiles out of the arguments', () => {
    expect(profilesOption(['node', 'b.ts', '--count', '5', '--profiles', 'dev,cluster'])).toEqual({ profiles: ['dev', 'cluster'], rest: ['node', 'b.ts', '--count', '5'] });
  });

  it('leaves the arguments alone without it', () => {
    expect(profilesOption(['node', 'b.ts', '--count', '5'])).toEqual({ profiles: undefined, rest: ['node', 'b.ts', '--count', '5'] });
  });

  it('refuses an unknown or empty profile', () => {
    expect(() => profilesOption(['--profiles', 'dev,cloud'])).toThrow(/--profiles/);
    expect(() => profilesOption(['--profiles'])).toThrow(/--profiles/);
  });
});
