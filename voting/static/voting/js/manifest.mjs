// Election manifest: contests, their question types and the one rule every type reduces to
// (twin of civic_votecrypto/manifest.py). Each option's value lies in [0, maxValue] (a range proof
// per selection) and Σ weight_i·value_i lies in [limit[0], limit[1]] (one limit proof per contest):
//
//   type            maxValue   weight   limit
//   yes_no_abstain  1          1        [1, 1]
//   one_of_n        1          1        [allow_blank ? 0 : 1, 1]
//   approval        1          1        [min_selections, max_selections]
//   score           max_score  1        [0, max_total]
//   budget          1          cost_i   [0, budget]
//
// The manifest hash H_M is taken over the RFC 8785 canonical JSON of the *normalised*
// manifest (`canonicalBytes`), so the browser and Python hash the same bytes.

import { isWellFormed, utf8 } from "./encoding.mjs";
import { BallotError } from "./errors.mjs";
import { isJsonInteger, isPlainObject } from "./json.mjs";
import { MAX_RANGE_BRANCHES } from "./proofs.mjs";

export const YES_NO_ABSTAIN_IDS = Object.freeze(["yes", "no", "abstain"]);
export const QUESTION_TYPES = Object.freeze(["yes_no_abstain", "one_of_n", "approval", "score", "budget"]);
export const MAX_OPTIONS = 256;
export const MAX_SCORE = 100;
export const ID_MAX = 128;
export const TITLE_MAX_BYTES = 1024;
const MAX_CONTESTS = 64;
const TYPE_PARAMS = {
  yes_no_abstain: [],
  one_of_n: ["allow_blank"],
  approval: ["min_selections", "max_selections"],
  score: ["max_score", "max_total"],
  budget: ["budget"],
};

function require(cond, message) {
  if (!cond) throw new BallotError(message);
}

function intField(obj, key, lo, hi) {
  const value = obj[key];
  require(isJsonInteger(value) && lo <= value && value <= hi, `${key} must be an integer in [${lo}, ${hi}]`);
  return value;
}

// Text rules (protocol §6.1) are fixed character sets, never a Unicode property such as
// "printable" whose extent depends on the engine's Unicode version (Node 20 knows Unicode 17,
// Python 3.11 Unicode 14). Identifiers are plain ASCII; titles are Unicode scalar values
// (no lone surrogate) except the C0/C1 controls (Cc, fixed since Unicode 1.1).
const IDENTIFIER_RE = new RegExp(`^[A-Za-z0-9._:-]{1,${ID_MAX}}$`);
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/** 1..128 characters of [A-Za-z0-9._:-] (election, contest, option and ballot ids). */
export function isIdentifier(value) {
  return typeof value === "string" && IDENTIFIER_RE.test(value);
}

/** Unicode scalar values except controls (Cc), at most 1024 bytes of UTF-8. */
export function isTitle(value) {
  return typeof value === "string" && isWellFormed(value) && !CONTROL_RE.test(value) && utf8(value).length <= TITLE_MAX_BYTES;
}

function identField(obj, key) {
  const value = obj[key];
  require(isIdentifier(value), `${key} must be 1..${ID_MAX} characters of [A-Za-z0-9._:-]`);
  return value;
}

function textField(obj, key, what) {
  const value = obj[key];
  require(
    isTitle(value),
    `${what} must be a string of at most ${TITLE_MAX_BYTES} UTF-8 bytes without control characters or lone surrogates`,
  );
  return value;
}

function allowedKeys(obj, required, what) {
  require(isPlainObject(obj), `${what} must be an object`);
  const keys = Object.keys(obj);
  const missing = required.filter((k) => !Object.hasOwn(obj, k)).sort();
  require(missing.length === 0, `${what} is missing ${JSON.stringify(missing)}`);
  const unknown = keys.filter((k) => !required.includes(k)).sort();
  require(unknown.length === 0, `${what} has unknown keys ${JSON.stringify(unknown)}`);
  return obj;
}

/** One question; `maxValue`, `weights` and `limit` are the derived proof rule. */
export class Contest {
  constructor(id, type, title, options, params) {
    Object.assign(this, { id, type, title, options: Object.freeze(options), params: Object.freeze(params) });
    Object.freeze(this);
  }

  get maxValue() {
    return this.type === "score" ? this.params.max_score : 1;
  }

  get weights() {
    return this.options.map((o) => (this.type === "budget" ? o.cost : 1));
  }

  get limit() {
    switch (this.type) {
      case "yes_no_abstain":
        return [1, 1];
      case "one_of_n":
        return [this.params.allow_blank ? 0 : 1, 1];
      case "approval":
        return [this.params.min_selections, this.params.max_selections];
      case "score":
        return [0, this.params.max_total];
      default:
        return [0, this.params.budget];
    }
  }

  get uniformWeights() {
    return this.weights.every((w) => w === 1);
  }

  toJSON() {
    const out = {
      id: this.id,
      type: this.type,
      title: this.title,
      options: this.options.map((o) => (o.cost === null ? { id: o.id, title: o.title } : { id: o.id, title: o.title, cost: o.cost })),
    };
    for (const [k, v] of Object.entries(this.params)) out[k] = k === "allow_blank" ? Boolean(v) : v;
    return out;
  }

  static fromJSON(obj) {
    const kind = isPlainObject(obj) ? obj.type : undefined;
    require(QUESTION_TYPES.includes(kind), `contest type must be one of ${QUESTION_TYPES.join(", ")}`);
    const o = allowedKeys(obj, ["id", "type", "title", "options", ...TYPE_PARAMS[kind]], "contest");
    const id = identField(o, "id");
    const title = textField(o, "title", "contest title");
    const raw = o.options;
    require(Array.isArray(raw) && raw.length >= 1 && raw.length <= MAX_OPTIONS, `a contest has 1..${MAX_OPTIONS} options`);
    const options = raw.map((r) => {
      const ro = allowedKeys(r, kind === "budget" ? ["id", "title", "cost"] : ["id", "title"], "option");
      const optionTitle = textField(ro, "title", "option title");
      const cost = kind === "budget" ? intField(ro, "cost", 0, MAX_RANGE_BRANCHES - 1) : null;
      return Object.freeze({ id: identField(ro, "id"), title: optionTitle, cost });
    });
    const ids = options.map((opt) => opt.id);
    require(new Set(ids).size === ids.length, "option ids must be unique within a contest");
    const n = options.length;
    const params = {};
    if (kind === "yes_no_abstain") {
      require(
        ids.join(",") === YES_NO_ABSTAIN_IDS.join(","),
        "yes_no_abstain has exactly the options yes, no, abstain (those ids, in that order)",
      );
    } else if (kind === "one_of_n") {
      require(typeof o.allow_blank === "boolean", "allow_blank must be a boolean");
      params.allow_blank = o.allow_blank ? 1 : 0;
    } else if (kind === "approval") {
      params.min_selections = intField(o, "min_selections", 0, n);
      params.max_selections = intField(o, "max_selections", params.min_selections, n);
    } else if (kind === "score") {
      params.max_score = intField(o, "max_score", 1, MAX_SCORE);
      params.max_total = intField(o, "max_total", 1, Math.min(params.max_score * n, MAX_RANGE_BRANCHES - 1));
    } else {
      params.budget = intField(o, "budget", 1, MAX_RANGE_BRANCHES - 1);
      require(options.every((opt) => opt.cost >= 1), "every budget option costs >= 1");
    }
    return new Contest(id, kind, title, options, params);
  }
}

export class Manifest {
  constructor(electionId, title, contests) {
    Object.assign(this, { electionId, title, contests: Object.freeze(contests) });
    Object.freeze(this);
  }

  toJSON() {
    return { election_id: this.electionId, title: this.title, contests: this.contests.map((c) => c.toJSON()) };
  }

  /** RFC 8785 canonical JSON: the input of the manifest hash H_M. */
  canonicalBytes() {
    return utf8(canonicalJson(this.toJSON()));
  }

  contest(contestId) {
    const found = this.contests.find((c) => c.id === contestId);
    if (found === undefined) throw new BallotError(`unknown contest ${JSON.stringify(contestId)}`);
    return found;
  }

  static fromJSON(obj) {
    const o = allowedKeys(obj, ["election_id", "title", "contests"], "manifest");
    const title = textField(o, "title", "manifest title");
    const raw = o.contests;
    require(Array.isArray(raw) && raw.length >= 1 && raw.length <= MAX_CONTESTS, `a manifest has 1..${MAX_CONTESTS} contests`);
    const contests = raw.map((c) => Contest.fromJSON(c));
    const ids = contests.map((c) => c.id);
    require(new Set(ids).size === ids.length, "contest ids must be unique");
    return new Manifest(identField(o, "election_id"), title, contests);
  }
}

/**
 * RFC 8785 (JCS) serialisation: keys sorted by UTF-16 code units, ECMAScript number and string
 * forms (which JSON.stringify gives for primitives), no whitespace.
 */
export function canonicalJson(value) {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new BallotError("JSON numbers must be finite");
    return JSON.stringify(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  throw new BallotError(`value of type ${typeof value} has no JSON form`);
}
