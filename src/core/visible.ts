// Text from elsewhere (a host's files, lists and logs; names on disk) made safe to print: a
// terminal acts on control characters (C0, DEL, and C1, which holds U+009B, a one-character CSI)
// and reorders text around bidi overrides, so what a reader sees is not what is there.

/** C0, DEL and C1: never part of a name svc takes (project files, release paths). */
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// eslint-disable-next-line no-control-regex
const SHOWN_ESCAPED = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Control and bidi override characters as \xNN or \uNNNN; a tab kept (it only moves right). */
export function escapeControls(text: string): string {
  return text.replace(SHOWN_ESCAPED, (char) => {
    const code = char.charCodeAt(0);
    return code > 0xff
      ? `\\u${code.toString(16).padStart(4, '0')}`
      : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** One line as shown: escapeControls, and a tab as two spaces. */
export function visible(text: string): string {
  return escapeControls(text.replaceAll('\t', '  '));
}
