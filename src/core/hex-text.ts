// Text a host script sent as hex (od's bytes, so any byte survives the line-based output),
// decoded as UTF-8: a byte sequence that is not UTF-8 becomes U+FFFD, never an error. Callers
// check the hex's shape (pairs of [0-9a-f], their own length limit) first.

export function decodeHex(hex: string): string {
  return new TextDecoder().decode(Uint8Array.from(hex.match(/../g) ?? [], (p) => parseInt(p, 16)));
}
