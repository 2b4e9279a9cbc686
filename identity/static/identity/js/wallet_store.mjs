// The wallet's local storage: one IndexedDB object store of records keyed by "id".
// "did" holds the DID key; "ballot:<election slug>" holds a ballot key and its token.
// Uint8Array values are stored as they are (structured clone), never sent anywhere.

const DB_NAME = "civic-wallet";
const STORE = "records";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export function getRecord(id) {
  return run("readonly", (store) => store.get(id));
}

export function allRecords() {
  return run("readonly", (store) => store.getAll());
}

export function putRecord(record) {
  return run("readwrite", (store) => store.put(record));
}

/**
 * Put all `records` in one transaction (all or nothing), skipping each one whose stored
 * counterpart satisfies `keep(existing, record)`.
 */
export async function putRecords(records, keep = () => false) {
  const db = await openDb();
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      for (const record of records) {
        const lookup = store.get(record.id);
        lookup.onsuccess = () => {
          if (!keep(lookup.result, record)) store.put(record);
        };
      }
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * Put `record` unless the stored record with its id satisfies `keep(existing)`; read and write
 * happen in one readwrite transaction, so two tabs cannot both pass the check. True if written.
 */
export function putRecordUnless(record, keep) {
  return run("readwrite", (store) => {
    const outcome = { result: false };
    const lookup = store.get(record.id);
    lookup.onsuccess = () => {
      if (keep(lookup.result)) return;
      store.put(record);
      outcome.result = true;
    };
    return outcome;
  });
}
