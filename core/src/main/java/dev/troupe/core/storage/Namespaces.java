package dev.troupe.core.storage;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import com.typesafe.config.Config;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The namespace that separates what one cluster stores from another's in a shared database ({@code
 * troupe.namespace}, default {@value #DEFAULT}), and the schema statements that put it into a
 * table.
 *
 * <p>Every table of Troupe's modules has a {@code namespace} column that leads its primary key, and
 * every statement names the namespace: two clusters with different namespaces on one database never
 * read, claim or delete each other's rows. A {@link StorageSchema} of an application can do the
 * same:
 *
 * <pre>{@code
 * public List<String> statements(Dialect dialect) {
 *   List<String> statements = new ArrayList<>();
 *   statements.add("CREATE TABLE IF NOT EXISTS orders_outbox (namespace VARCHAR(63) NOT NULL,"
 *       + " id BIGINT NOT NULL, body TEXT, PRIMARY KEY (namespace, id))");
 *   statements.addAll(Namespaces.keyStatements(dialect, "orders_outbox", "id"));
 *   return statements;
 * }
 * }</pre>
 *
 * @since 0.1.0
 */
public final class Namespaces {
  /** The setting that holds a node's namespace. */
  public static final String SETTING = "troupe.namespace";

  /** The namespace of a node that sets none, and of rows written before namespaces existed. */
  public static final String DEFAULT = "default";

  /** The longest namespace: the width of the {@code namespace} columns. */
  public static final int MAX_LENGTH = 63;

  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  private Namespaces() {}

  /**
   * The namespace {@code config} sets ({@value #SETTING}).
   *
   * @throws IllegalArgumentException if it is missing or not a valid namespace
   */
  public static String of(Config config) {
    requireNonNull(config, "config");
    if (!config.hasPath(SETTING)) {
      throw new IllegalArgumentException(SETTING + " is not set (Troupe's reference.conf sets it)");
    }
    return requireValid(config.getString(SETTING), SETTING);
  }

  /**
   * Returns {@code namespace} if it is 1 to {@value #MAX_LENGTH} letters, digits, '.', '_' or '-',
   * starting with a letter or digit.
   *
   * @throws IllegalArgumentException naming {@code what}, the value and the rule
   */
  public static String requireValid(String namespace, String what) {
    requireNonBlank(namespace, what);
    if (!VALID.matcher(namespace).matches()) {
      String shown = namespace.length() <= 80 ? namespace : namespace.substring(0, 80) + "...";
      throw new IllegalArgumentException(
          what
              + " must be 1 to "
              + MAX_LENGTH
              + " letters, digits, '.', '_' or '-', starting with a letter or digit; got: ["
              + shown
              + "]");
    }
    return namespace;
  }

  /**
   * Idempotent statements that bring {@code table}, created before namespaces with primary key
   * {@code keyColumns}, to primary key {@code (namespace, keyColumns...)}: they add the column
   * ({@value #DEFAULT} for the rows already there) and rebuild the key as constraint {@code
   * <table>_ns_pk}. On a table created with that key already they rebuild it again, harmlessly.
   */
  public static List<String> keyStatements(Dialect dialect, String table, String... keyColumns) {
    requireNonNull(dialect, "dialect");
    requireNonBlank(table, "table");
    if (keyColumns.length == 0) {
      throw new IllegalArgumentException("keyColumns of " + table + " must not be empty");
    }
    String key = "namespace, " + String.join(", ", keyColumns);
    String constraint = table + "_ns_pk";
    String addColumn =
        "ALTER TABLE "
            + table
            + " ADD COLUMN IF NOT EXISTS namespace VARCHAR("
            + MAX_LENGTH
            + ") DEFAULT '"
            + DEFAULT
            + "' NOT NULL";
    String dropDefault = "ALTER TABLE " + table + " ALTER COLUMN namespace DROP DEFAULT";
    String addKey =
        "ALTER TABLE " + table + " ADD CONSTRAINT " + constraint + " PRIMARY KEY (" + key + ")";
    if (dialect == Dialect.POSTGRESQL) {
      // All statements of a PostgreSQL schema run in one transaction: no half-done state.
      return List.of(
          addColumn,
          dropDefault,
          "ALTER TABLE " + table + " DROP CONSTRAINT IF EXISTS " + table + "_pkey",
          "ALTER TABLE " + table + " DROP CONSTRAINT IF EXISTS " + constraint,
          addKey);
    }
    return List.of(addColumn, dropDefault, "ALTER TABLE " + table + " DROP PRIMARY KEY", addKey);
  }
}
