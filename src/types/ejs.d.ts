// ejs ships no types; this declares the one call svc makes.
declare module 'ejs' {
  export interface Options {
    strict?: boolean;
    localsName?: string;
    _with?: boolean;
    async?: false;
    cache?: boolean;
    compileDebug?: boolean;
    rmWhitespace?: boolean;
    filename?: string;
    escape?: (value: unknown) => string;
    includer?: (originalPath: string, parsedPath: string) => never;
  }
  export function render(template: string, data: object, options: Options): string;
  const ejs: { render: typeof render };
  export default ejs;
}
