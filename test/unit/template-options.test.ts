// The fixed EJS options of src/core/template.ts, each pinned by what a template author sees:
// includes refused, strict mode (no stray globals), a synchronous string, errors that name the
// template file and line, and `<%=` refused outside HTML.
import { describe, expect, it } from 'vitest';
import { renderText, templateDataOf } from '../../src/core/template.js';

const render = (source: string, html = false) =>
  renderText(source, templateDataOf({ name: 'api' }), html, 'config/app.conf.ejs');

describe('renderText', () => {
  it.each([
    ['<%- it.name %>', false, 'api'],
    ['<%= "<b>" %>', true, '&lt;b&gt;'],
    ['a\n  b  \n', false, 'a\n  b  \n'],
  ])('renders %j (html: %s) as %j', (source, html, expected) => {
    expect(render(source, html)).toBe(expected);
  });

  it.each([
    [
      '<%- include("other") %>',
      'config/app.conf.ejs:1\n >> 1| <%- include("other") %>\n\ntemplates may not include other files',
    ],
    ['<% leak = 1 %>', 'config/app.conf.ejs:1\n >> 1| <% leak = 1 %>\n\nleak is not defined'],
    [
      'a\n<%- it.nope.x %>',
      "config/app.conf.ejs:2\n    1| a\n >> 2| <%- it.nope.x %>\n\nCannot read properties of undefined (reading 'x')",
    ],
    [
      '<%= it.name %>',
      'config/app.conf.ejs:1\n >> 1| <%= it.name %>\n\n<%= escapes HTML only; call the quoter for this file format, e.g. <%- it.q.sh(x) %>',
    ],
  ])('refuses %j with the file, the line and why', (source, message) => {
    expect(() => render(source)).toThrow(message);
    let thrown: unknown;
    try {
      render(source);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message).toBe(message);
  });

  it('returns a string, never a promise', () => {
    expect(typeof render('x')).toBe('string');
  });
});
