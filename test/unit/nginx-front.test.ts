import { describe, expect, it } from 'vitest';
import { serverNames, visitorHost } from '../../src/core/nginx-front.js';

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
