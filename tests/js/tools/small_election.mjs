// A small election with every question type, for the fast JavaScript tests (not a test file).
import { ElectionContext } from "../../../voting/static/voting/js/ballot.mjs";
import { pointHex } from "../../../voting/static/voting/js/encoding.mjs";
import { baseMul } from "../../../voting/static/voting/js/group.mjs";
import { deterministicScalars } from "../../../voting/static/voting/js/hashing.mjs";
import { Manifest } from "../../../voting/static/voting/js/manifest.mjs";

export const SMALL_MANIFEST = {
  election_id: "small-election",
  title: "Small election",
  contests: [
    {
      id: "ref",
      type: "yes_no_abstain",
      title: "Referendum",
      options: [
        { id: "yes", title: "Yes" },
        { id: "no", title: "No" },
        { id: "abstain", title: "Abstain" },
      ],
    },
    { id: "mayor", type: "one_of_n", title: "Mayor", allow_blank: true, options: [{ id: "m1", title: "M1" }, { id: "m2", title: "M2" }] },
    {
      id: "board",
      type: "approval",
      title: "Board",
      min_selections: 1,
      max_selections: 2,
      options: [{ id: "x", title: "X" }, { id: "y", title: "Y" }, { id: "z", title: "Z" }],
    },
    { id: "prio", type: "score", title: "Priorities", max_score: 2, max_total: 3, options: [{ id: "p", title: "P" }, { id: "q", title: "Q" }] },
    {
      id: "pb",
      type: "budget",
      title: "Budget",
      budget: 4,
      options: [{ id: "lib", title: "Library", cost: 3 }, { id: "bench", title: "Benches", cost: 1 }],
    },
  ],
};

export const SMALL_CHOICES = {
  ref: { no: 1 },
  mayor: {},
  board: { x: 1, z: 1 },
  prio: { p: 2, q: 1 },
  pb: { lib: 1, bench: 1 },
};

const secret = deterministicScalars(new TextEncoder().encode("small-election"), "key")();
export const SMALL_SECRET = secret;
export const SMALL_CONTEXT_JSON = {
  manifest: SMALL_MANIFEST,
  joint_key: pointHex(baseMul(secret)),
  trustees: 1,
  threshold: 1,
  trustee_commitments: [],
};

export function smallContext() {
  return ElectionContext.build(Manifest.fromJSON(SMALL_MANIFEST), baseMul(secret), 1, 1, []);
}
