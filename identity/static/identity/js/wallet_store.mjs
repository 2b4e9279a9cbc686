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

export async function putRecords(records) {
  const db = await openDb();
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      for (const record of records) tx.objectStore(STORE).put(record);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}
