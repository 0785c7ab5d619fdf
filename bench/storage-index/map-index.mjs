// Baseline: the file backend's log index before the session table, kept verbatim in behaviour
// (one JS Map entry per session, capped by V8 at 2^24 = 16,777,216 entries), so every run
// compares against it on the same machine at the same time.
const STRIDE = 6;
const CHUNK_ENTRIES = 16_384;

export class MapLogIndex {
  numbers = new Map();
  heads = new Uint32Array(1024);
  tails = new Uint32Array(1024);
  chunks = [];
  entries = 0;

  add(sessionId, segment, offset, size, ordinal, kindCode, seq) {
    const id = this.entries++;
    if (id % CHUNK_ENTRIES === 0) this.chunks.push(new Uint32Array(CHUNK_ENTRIES * STRIDE));
    const chunk = this.chunks[Math.floor(id / CHUNK_ENTRIES)];
    const at = (id % CHUNK_ENTRIES) * STRIDE;
    chunk[at] = segment;
    chunk[at + 1] = offset;
    chunk[at + 2] = size;
    chunk[at + 3] = seq;
    chunk[at + 4] = ordinal * 4 + kindCode;
    chunk[at + 5] = 0;
    let session = this.numbers.get(sessionId);
    if (session === undefined) {
      session = this.numbers.size;
      this.numbers.set(sessionId, session);
      if (session >= this.heads.length) {
        this.heads = doubled(this.heads);
        this.tails = doubled(this.tails);
      }
    }
    const tail = this.tails[session];
    if (tail === 0) this.heads[session] = id + 1;
    else this.chunks[Math.floor((tail - 1) / CHUNK_ENTRIES)][((tail - 1) % CHUNK_ENTRIES) * STRIDE + 5] = id + 1;
    this.tails[session] = id + 1;
  }

  all(sessionId) {
    const session = this.numbers.get(sessionId);
    const selected = [];
    let next = session === undefined ? 0 : this.heads[session];
    while (next !== 0) {
      const id = next - 1;
      const chunk = this.chunks[Math.floor(id / CHUNK_ENTRIES)];
      const at = (id % CHUNK_ENTRIES) * STRIDE;
      selected.push({ segment: chunk[at], offset: chunk[at + 1], size: chunk[at + 2], ordinal: Math.floor(chunk[at + 4] / 4) });
      next = chunk[at + 5];
    }
    return selected;
  }

  get size() {
    return this.numbers.size;
  }
}

function doubled(words) {
  const grown = new Uint32Array(words.length * 2);
  grown.set(words);
  return grown;
}
