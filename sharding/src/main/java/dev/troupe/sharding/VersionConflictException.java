package dev.troupe.sharding;

/**
 * A {@link Repository#save} whose expected version is not the stored one: another writer saved the
 * key in between (or created it, or deleted it). Reload and decide again.
 *
 * @since 0.1.0
 */
public final class VersionConflictException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final String repository;
  private final String key;
  private final long expectedVersion;
  private final long actualVersion;

  public VersionConflictException(
      String repository, String key, long expectedVersion, long actualVersion) {
    super(
        "Repository ["
            + repository
            + "]: key ["
            + key
            + "] is at version "
            + (actualVersion == 0 ? "0 (absent)" : actualVersion)
            + ", not the expected "
            + expectedVersion
            + (expectedVersion == 0 ? " (new)" : ""));
    this.repository = repository;
    this.key = key;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }

  /** The repository name. */
  public String repository() {
    return repository;
  }

  /** The key. */
  public String key() {
    return key;
  }

  /** The version the writer expected; 0 for a new key. */
  public long expectedVersion() {
    return expectedVersion;
  }

  /** The version stored; 0 if the key is absent. */
  public long actualVersion() {
    return actualVersion;
  }
}
