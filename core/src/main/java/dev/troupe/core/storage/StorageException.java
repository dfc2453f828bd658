package dev.troupe.core.storage;

/**
 * Thrown when a {@link Storage} cannot be opened (not a JDBC URL, no driver for it, database
 * unreachable or refusing the credentials) or a {@link StorageSchema} cannot be applied.
 *
 * <p>Messages name the database by its URL with any password removed (see {@link
 * Storage#displayUrl()}); causes whose messages would reveal a password are replaced by redacted
 * copies that keep the original class name and stack trace.
 *
 * @since 0.1.0
 */
public class StorageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with {@code message} and no cause. */
  public StorageException(String message) {
    super(message);
  }

  /** Creates an exception with {@code message} and {@code cause} (which may be {@code null}). */
  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Whether {@code e} is an integrity constraint violation (SQL state class {@code 23}): a
   * duplicate key when another writer inserted the same row first, on every database.
   */
  public static boolean isConstraintViolation(java.sql.SQLException e) {
    return e.getSQLState() != null && e.getSQLState().startsWith("23");
  }
}
