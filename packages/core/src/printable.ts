const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A file name's bytes as text to print: valid UTF-8 as it is, other bytes (Linux allows any) and
 * control characters as `\xNN`, so that a message names the real file and cannot drive the terminal.
 */
export function printableFileName(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
    let char: string | undefined;
    if (length > 0 && i + length <= bytes.length) {
      try {
        char = strictUtf8.decode(bytes.subarray(i, i + length));
      } catch {
        char = undefined;
      }
    }
    const code = char?.codePointAt(0);
    if (char === undefined || code === undefined || code < 0x20 || (code >= 0x7f && code <= 0x9f)) {
      out += `\\x${lead.toString(16).padStart(2, '0')}`;
      i++;
    } else {
      out += char;
      i += length;
    }
  }
  return out;
}
