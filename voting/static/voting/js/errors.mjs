// Error classes of the browser voting cryptography (twin of civic_votecrypto/errors.py).
// One hierarchy so the booth can turn any rejection into one clear message with a single
// `instanceof CryptoError`.

/** Some cryptographic input was rejected. */
export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bytes, hex or JSON that do not decode to a valid group element, scalar or object. */
export class EncodingError extends CryptoError {}

/** A zero-knowledge proof failed to verify (or could not be produced). */
export class ProofError extends CryptoError {}

/** A ballot, selection or manifest is inconsistent with the rules of its contest. */
export class BallotError extends CryptoError {}
