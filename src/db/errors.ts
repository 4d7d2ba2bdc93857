/** A database that cannot be opened; the message says why in words a user can act on. */
export class DatabaseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(`db: ${message}`, options);
  }
}
