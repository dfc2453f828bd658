package dev.troupe.samples.chaos;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * Fenced writes: a write for {@code name} with token {@code epoch} is accepted only if no write
 * with a larger token was accepted before. The table is the second witness: a holder that lost its
 * lock, or a daemon instance that was replaced, must see its writes refused.
 */
final class Fence {
  static final String DDL =
      "CREATE TABLE IF NOT EXISTS chaos_fence (name VARCHAR(200) PRIMARY KEY,"
          + " epoch BIGINT NOT NULL, writes BIGINT NOT NULL)";
  private final DataSource dataSource;

  Fence(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Whether the write was accepted; throws if the database cannot be reached. */
  boolean write(String name, long epoch) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement update =
          c.prepareStatement(
              "UPDATE chaos_fence SET epoch = ?, writes = writes + 1 WHERE name = ? AND epoch <= ?")) {
        update.setLong(1, epoch);
        update.setString(2, name);
        update.setLong(3, epoch);
        if (update.executeUpdate() == 1) {
          return true;
        }
      }
      try (PreparedStatement insert =
          c.prepareStatement("INSERT INTO chaos_fence (name, epoch, writes) VALUES (?, ?, 1)")) {
        insert.setString(1, name);
        insert.setLong(2, epoch);
        insert.executeUpdate();
        return true;
      } catch (SQLException e) {
        if (e.getSQLState() != null && e.getSQLState().startsWith("23")) {
          return false; // the row exists with a larger epoch
        }
        throw e;
      }
    }
  }

  static void createTables(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(DDL);
      s.execute(AckedWrites.DDL);
      s.execute(AckedWrites.COUNTER_DDL);
    }
  }
}
