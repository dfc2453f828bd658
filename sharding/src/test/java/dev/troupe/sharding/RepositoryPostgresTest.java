package dev.troupe.sharding;

import dev.troupe.core.storage.Storage;
import dev.troupe.testkit.TestDatabases;
import dev.troupe.testkit.TestDatabases.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The {@link Repository} contract on the test PostgreSQL, in a schema of its own. Skipped when
 * PostgreSQL is unreachable, except under CI ({@code CI=true}), where it fails.
 */
final class RepositoryPostgresTest extends RepositoryContract {
  private static TestDatabase db;

  @BeforeAll
  static void openAFreshSchema() {
    TestDatabases.assumePostgres();
    db = TestDatabases.freshPostgres();
  }

  @AfterAll
  static void dropTheSchema() {
    if (db != null) {
      db.close();
    }
  }

  @Override
  protected Storage storage() {
    return db.storage();
  }
}
