package dev.troupe.core.lock;

/**
 * Thrown when a write protected by a lock carries a fencing token that is no longer current: a
 * later holder has taken the lock. The caller's transaction must roll back.
 *
 * @since 0.1.0
 */
public final class StaleTokenException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final String lockId;
  private final long token;
  private final long currentToken;

  public StaleTokenException(String lockId, long token, long currentToken) {
    super(
        "fencing token "
            + token
            + " of lock ["
            + lockId
            + "] is stale: the current token is "
            + currentToken
            + " (another holder took the lock)");
    this.lockId = lockId;
    this.token = token;
    this.currentToken = currentToken;
  }

  /** The lock id. */
  public String lockId() {
    return lockId;
  }

  /** The stale token the write carried. */
  public long token() {
    return token;
  }

  /** The current token in the database. */
  public long currentToken() {
    return currentToken;
  }
}
