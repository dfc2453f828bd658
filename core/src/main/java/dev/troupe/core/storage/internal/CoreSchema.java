package dev.troupe.core.storage.internal;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.StorageSchema;
import java.util.List;

/**
 * INTERNAL API. Core's own tables; registered in core's {@code META-INF/services}.
 *
 * <p>Public with a public constructor because {@link java.util.ServiceLoader} instantiates it.
 */
public final class CoreSchema implements StorageSchema {
  /** The schema's name in {@code troupe_schema}. */
  public static final String NAME = "troupe-core";

  /**
   * The version table itself: created before any schema is looked up, so it is also core's first
   * statement. Standard SQL, the same for every dialect.
   */
  static final String CREATE_SCHEMA_TABLE =
      "CREATE TABLE IF NOT EXISTS troupe_schema ("
          + "name VARCHAR(200) PRIMARY KEY, "
          + "version INT NOT NULL, "
          + "applied_at TIMESTAMP NOT NULL)";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public List<String> statements(Dialect dialect) {
    return List.of(CREATE_SCHEMA_TABLE);
  }
}
