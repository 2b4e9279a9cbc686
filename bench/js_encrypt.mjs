// Median time to encrypt a one-of-five ballot in JavaScript (five range proofs + the limit
// proof), the booth's hot path. Prints one JSON object:
//   {"js_encrypt_ms": <median CPU ms>, "js_encrypt_wall_ms": <median wall-clock ms>,
//    "js_encrypt_first_wall_ms": <first ballot, including building the window tables>, "runs": N}
// CPU time (process.cpuUsage, which also counts V8's helper threads, so it errs high) is the
// headline, like bench/crypto.py: other load on a shared machine does not distort it.
// Run: node bench/js_encrypt.mjs [--runs N]
import { ElectionContext, encryptBallot } from "../voting/static/voting/js/ballot.mjs";
import { baseMul } from "../voting/static/voting/js/group.mjs";
import { deterministicScalars } from "../voting/static/voting/js/hashing.mjs";
import { Manifest } from "../voting/static/voting/js/manifest.mjs";

const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 31;

const manifest = Manifest.fromJSON({
  election_id: "bench-election",
  title: "Benchmark",
  contests: [
    {
      id: "mayor",
      type: "one_of_n",
      title: "Mayor",
      allow_blank: false,
      options: [1, 2, 3, 4, 5].map((i) => ({ id: `c${i}`, title: `Candidate ${i}` })),
    },
  ],
});
const rng = deterministicScalars(new TextEncoder().encode("bench"), "js_encrypt");
const ctx = ElectionContext.build(manifest, baseMul(rng()), 3, 2, []);
const seed = new Uint8Array(32);

const cpu = [];
const wall = [];
let firstWall = 0;
for (let i = 0; i < runs + 1; i++) {
  seed[0] = i & 0xff;
  const startCpu = process.cpuUsage();
  const start = performance.now();
  encryptBallot(ctx, `bench-${i}`, { mayor: { [`c${(i % 5) + 1}`]: 1 } }, seed);
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(startCpu);
  if (i === 0) firstWall = elapsed;
  else {
    // the first run also builds the window tables of G and the joint key
    wall.push(elapsed);
    cpu.push((used.user + used.system) / 1000);
  }
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] * 100) / 100;
};
console.log(
  JSON.stringify({
    js_encrypt_ms: median(cpu),
    js_encrypt_wall_ms: median(wall),
    js_encrypt_first_wall_ms: Math.round(firstWall * 100) / 100,
    runs,
  }),
);
