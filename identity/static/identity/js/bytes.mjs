// Byte-array helpers shared by the wallet's modules. Platform only (no @noble), so that
// blind_rsa.mjs keeps depending on nothing but the browser.

/** The parts (Uint8Arrays) one after the other in a new Uint8Array. */
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
