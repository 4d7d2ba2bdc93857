/** Tracks open live streams so shutdown can end them and metrics can count them. */
export interface LiveStreams {
  add(close: () => void): () => void;
  readonly size: number;
  /** End every open stream (graceful shutdown). */
  closeAll(): void;
}

/** Create the registry of open live streams. */
export function createLiveStreams(onChange?: (size: number) => void): LiveStreams {
  const open = new Set<() => void>();
  return {
    add(close) {
      open.add(close);
      onChange?.(open.size);
      return () => {
        if (open.delete(close)) onChange?.(open.size);
      };
    },
    get size() {
      return open.size;
    },
    closeAll() {
      for (const close of [...open]) close();
      open.clear();
      onChange?.(0);
    },
  };
}
