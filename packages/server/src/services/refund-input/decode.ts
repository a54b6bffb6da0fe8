/**
 * The text of an uploaded or given file: UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, else GBK, as
 * Excel on a Chinese Windows saves "CSV". GBK is decoded by the runtime's ICU (Node's full ICU has it).
 */

export type TextEncoding = 'utf-8' | 'gbk';

/** Decodes `bytes`: UTF-8 when valid (BOM dropped), GBK otherwise. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncoding } {
  try {
    return {
      text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes),
      encoding: 'utf-8',
    };
  } catch {
    return { text: new TextDecoder('gbk').decode(bytes), encoding: 'gbk' };
  }
}

/** The zip signature every .xlsx starts with. */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}
