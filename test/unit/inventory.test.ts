// The inventory in svc.yaml (`hosts:`): what it accepts, and the exact line for each problem.
import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from '../../src/core/manifest-file.js';
import { isHostAddress } from '../../src/core/manifest.js';

const BASE = `schema: 1
name: api-orders
description: Orders API
port: 3000
health: /ok
runtime: node
init: systemd
monit: true
user: api-orders
command: [/usr/bin/node, server.js]
stopTimeout: 30
env: {}
files: {}
generator: { svc: 0.1.0 }
`;

const bytes = (text: string) => new TextEncoder().encode(text);
const withHosts = (hosts: string) => `${BASE}hosts:\n${hosts}`;

function problems(hosts: string): string[] {
  try {
    parseManifest(bytes(withHosts(hosts)));
  } catch (error) {
    if (error instanceof ManifestError) return error.lines;
    throw error;
  }
  throw new Error('expected the manifest to be refused');
}

const NAME_RULE = 'lowercase letters, digits, . _ and -, starting with a letter or digit';
const USER_RULE =
  'must be a Linux user name: lowercase letters, digits, _ and -, at most 32 characters, not starting with a digit or -';

describe('hosts: in svc.yaml', () => {
  it('is optional', () => {
    expect(parseManifest(bytes(BASE)).hosts).toBeUndefined();
  });

  it('reads groups of hosts with address, user, port and vars', () => {
    const manifest = parseManifest(
      bytes(
        withHosts(`  web:
    vars: { region: eu, canary: false }
    hosts:
      web1: { address: 203.0.113.10, user: deploy, port: 22, vars: { weight: 2 } }
      web2: { address: web2.example.com }
      web3: { address: "2001:db8::3" }
  db.main:
    hosts:
      db_1: { address: db-alias }
`),
      ),
    );
    expect(manifest.hosts).toEqual({
      web: {
        vars: { region: 'eu', canary: false },
        hosts: {
          web1: { address: '203.0.113.10', user: 'deploy', port: 22, vars: { weight: 2 } },
          web2: { address: 'web2.example.com' },
          web3: { address: '2001:db8::3' },
        },
      },
      'db.main': { hosts: { db_1: { address: 'db-alias' } } },
    });
  });

  it.each([
    ['  []\n', 'svc.yaml: hosts: must be a mapping of group names to groups'],
    [
      '  Web: { hosts: { a: { address: a.example } } }\n',
      `svc.yaml: hosts.Web: must be a group name: ${NAME_RULE}`,
    ],
    [
      '  -web: { hosts: { a: { address: a.example } } }\n',
      `svc.yaml: hosts.-web: must be a group name: ${NAME_RULE}`,
    ],
    [
      '  sandbox: { hosts: { a: { address: a.example } } }\n',
      "svc.yaml: hosts.sandbox: is reserved: sandbox is the group of the sandbox's hosts",
    ],
    ['  web: 3\n', 'svc.yaml: hosts.web: must be a mapping with hosts: and optionally vars:, env:'],
    ['  web: { vars: {} }\n', 'svc.yaml: hosts.web.hosts: is required'],
    [
      '  web: { hosts: [] }\n',
      'svc.yaml: hosts.web.hosts: must be a mapping of host names to hosts',
    ],
    [
      '  web: { hosts: { Web1: { address: a.example } } }\n',
      `svc.yaml: hosts.web.hosts.Web1: must be a host name: ${NAME_RULE}`,
    ],
    [
      '  web: { hosts: { sbx-1: { address: a.example } } }\n',
      "svc.yaml: hosts.web.hosts.sbx-1: is reserved: sbx-N are the sandbox's hosts",
    ],
    [
      '  web: { hosts: { web1: 203.0.113.10 } }\n',
      'svc.yaml: hosts.web.hosts.web1: must be a mapping with address: and optionally user:, port:, vars:',
    ],
    [
      '  web: { hosts: { web1: { user: deploy } } }\n',
      'svc.yaml: hosts.web.hosts.web1.address: is required',
    ],
    [
      '  web: { hosts: { web1: { address: 10 } } }\n',
      'svc.yaml: hosts.web.hosts.web1.address: must be a host name or an IP address',
    ],
    [
      '  web: { hosts: { web1: { address: a, user: Root } } }\n',
      `svc.yaml: hosts.web.hosts.web1.user: ${USER_RULE}`,
    ],
    [
      '  web: { hosts: { web1: { address: a, port: 0 } } }\n',
      'svc.yaml: hosts.web.hosts.web1.port: must be an integer between 1 and 65535',
    ],
    [
      '  web: { hosts: { web1: { address: a, port: "22" } } }\n',
      'svc.yaml: hosts.web.hosts.web1.port: must be an integer between 1 and 65535',
    ],
    [
      '  web: { vars: 3, hosts: { web1: { address: a } } }\n',
      'svc.yaml: hosts.web.vars: must be a mapping of names to values',
    ],
    [
      '  web: { vars: { 1x: a }, hosts: { web1: { address: a } } }\n',
      'svc.yaml: hosts.web.vars.1x: must be a name of letters, digits and _, not starting with a digit',
    ],
    [
      '  web: { hosts: { web1: { address: a, vars: { list: [1] } } } }\n',
      'svc.yaml: hosts.web.hosts.web1.vars.list: must be a string, a number or true/false',
    ],
    [
      '  web: { hosts: { web1: { address: a, vars: { empty: } } } }\n',
      'svc.yaml: hosts.web.hosts.web1.vars.empty: must be a string, a number or true/false',
    ],
  ])('refuses %j', (hosts, line) => {
    expect(problems(hosts)).toEqual([line]);
  });

  it('suggests the key meant, and says it is required, in one line (issue 10)', () => {
    expect(problems('  web:\n    host: { web1: { address: a } }\n')).toEqual([
      'svc.yaml: hosts.web.host: unknown key (did you mean hosts? it is required)',
    ]);
    expect(problems('  web:\n    hosts:\n      web1: { adress: a.example }\n')).toEqual([
      'svc.yaml: hosts.web.hosts.web1.adress: unknown key (did you mean address? it is required)',
    ]);
  });

  it('keeps names unique: a host in one group only, and never named like a group', () => {
    expect(
      problems(`  web:
    hosts:
      web1: { address: a.example }
      db: { address: b.example }
  db:
    hosts:
      web1: { address: c.example }
`),
    ).toEqual([
      'svc.yaml: hosts.web.hosts.db: is also the name of a group',
      'svc.yaml: hosts.db.hosts.web1: is already a host of group web',
    ]);
  });

  it('reports every problem at once, in the order of the file', () => {
    expect(
      problems(`  web:
    hosts:
      web1: { address: "not a host", port: 99999 }
      web2: { address: ok.example, user: "-x" }
`),
    ).toEqual([
      'svc.yaml: hosts.web.hosts.web1.address: must be a host name or an IP address',
      'svc.yaml: hosts.web.hosts.web1.port: must be an integer between 1 and 65535',
      `svc.yaml: hosts.web.hosts.web2.user: ${USER_RULE}`,
    ]);
  });
});

describe('isHostAddress', () => {
  it.each([
    'web2.example.com',
    'host.example.com.',
    'web_1',
    'db-alias',
    '203.0.113.10',
    '::1',
    '2001:db8::3',
    '::ffff:192.0.2.1',
  ])('accepts %s', (address) => {
    expect(isHostAddress(address)).toBe(true);
  });

  it.each([
    '',
    'not a host',
    '-oProxyCommand=x',
    '300.1.1.1',
    '10.0.0',
    '[::1]',
    '1:2:3',
    'a..b',
    'host/path',
    'user@host',
    'x'.repeat(254),
  ])('refuses %j', (address) => {
    expect(isHostAddress(address)).toBe(false);
  });
});
