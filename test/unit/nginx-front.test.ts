import { describe, expect, it } from 'vitest';
import { isDefaultOn, listensOn, serverNames, visitorHost } from '../../src/core/nginx-front.js';

describe('the Host a site’s visitors send', () => {
  it.each([
    ['server {\n  listen 80;\n  server_name _;\n}', ['_'], undefined],
    ['server { listen 80; }', [], undefined],
    [
      'server { server_name shop.example www.shop.example; }',
      ['shop.example', 'www.shop.example'],
      'shop.example',
    ],
    [
      'server { server_name *.shop.example ~^(.+)$ shop.example; }',
      ['*.shop.example', '~^(.+)$', 'shop.example'],
      'shop.example',
    ],
    [
      '# server_name old.example;\nserver { server_name new.example; }',
      ['new.example'],
      'new.example',
    ],
    [
      'server { proxy_set_header X-Server-Name x; server_name a.example; }',
      ['a.example'],
      'a.example',
    ],
  ])('%j', (site, names, host) => {
    expect(serverNames(site)).toEqual(names);
    expect(visitorHost(site)).toBe(host);
  });
});

describe('a site’s listen directives on a port, and whether it is the port’s default_server', () => {
  it.each([
    ['server { listen 80; }', 80, [['80']], false],
    [
      'server { listen 80 default_server; listen [::]:80 default_server; }',
      80,
      [
        ['80', 'default_server'],
        ['[::]:80', 'default_server'],
      ],
      true,
    ],
    // Every listen on the port: IPv6 visitors would go elsewhere otherwise.
    [
      'server { listen 80 default_server; listen [::]:80; }',
      80,
      [['80', 'default_server'], ['[::]:80']],
      false,
    ],
    [
      'server {\n  listen\n    127.0.0.1:80\n    default_server;\n}',
      80,
      [['127.0.0.1:80', 'default_server']],
      true,
    ],
    ['server{listen 80 default_server;server_name _;}', 80, [['80', 'default_server']], true],
    ['server { listen 8080 default_server; listen 80; }', 80, [['80']], false],
    ['server { listen 8080 default_server; }', 80, [], false],
    ['server { listen 80; }', 8080, [], false],
    ['server { # listen 80 default_server;\n  listen 80; }', 80, [['80']], false],
    [
      'server { proxy_set_header X-listen 80; listen 80 ssl default_server; }',
      80,
      [['80', 'ssl', 'default_server']],
      true,
    ],
    ['server { }', 80, [], false],
  ] as const)('%j on %i', (site, port, listens, isDefault) => {
    expect(listensOn(site, port)).toEqual(listens);
    expect(isDefaultOn(site, port)).toBe(isDefault);
  });
});
