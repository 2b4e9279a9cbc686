// The page's side of the booth worker protocol (voting/js/booth_worker.mjs): one promise per
// request, progress through a callback. If the browser cannot start the module worker, the same
// protocol runs on the main thread (runInPage), yielding after every proof.

export class BoothEngineError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

export function startBoothEngine(workerUrl, fallbackUrl) {
  const pending = new Map();
  let nextId = 1;
  let worker = null;
  let fallback = null;

  function settle(reply) {
    const entry = pending.get(reply.id);
    if (entry === undefined) return;
    if (reply.type === "progress") {
      entry.onProgress?.(reply.done, reply.total);
      return;
    }
    pending.delete(reply.id);
    if (reply.type === "error") entry.reject(new BoothEngineError(reply.error.name, reply.error.message));
    else entry.resolve(reply);
  }

  async function runOnPage(message) {
    fallback ??= import(fallbackUrl);
    const { runInPage } = await fallback;
    await runInPage(message, settle);
  }

  try {
    worker = new Worker(workerUrl, { type: "module" });
    worker.addEventListener("message", (event) => settle(event.data));
    worker.addEventListener("error", (event) => {
      // The worker script failed to load or crashed: finish every request on the page instead.
      event.preventDefault();
      worker = null;
      for (const entry of pending.values()) runOnPage(entry.message);
    });
  } catch {
    worker = null;
  }

  return {
    usesWorker: () => worker !== null,
    request(message, onProgress = null) {
      const id = nextId++;
      const full = { ...message, id };
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, onProgress, message: full });
        if (worker !== null) worker.postMessage(full);
        else runOnPage(full);
      });
    },
  };
}
