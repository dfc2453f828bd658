package dev.troupe.cron.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.core.Names;
import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.Storage;
import dev.troupe.cron.CronScope;
import dev.troupe.cron.JobRun;
import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.OverlapPolicy;
import dev.troupe.cron.internal.CronStore.Claim;
import dev.troupe.cron.internal.CronStore.ClaimRequest;
import dev.troupe.cron.internal.CronStore.NotRun;
import dev.troupe.cron.internal.CronStore.Outcome;
import dev.troupe.cron.internal.CronStore.StoredJob;
import dev.troupe.testkit.TestDatabases;
import dev.troupe.testkit.TestDatabases.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Two clusters with different namespaces on one database: each store sees, claims, records, prunes
 * and deletes only its own cron rows; and a database of cron schema version 1 is upgraded with its
 * rows in namespace {@code default}. On H2 and on PostgreSQL.
 */
final class CronStoreNamespaceTest {
  private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
  private static final Instant T1 = T0.plus(Duration.ofMinutes(1));
  private static final Instant T2 = T0.plus(Duration.ofMinutes(2));

  @Test
  void namespacesAreSeparateOnH2() {
    try (TestDatabase db = TestDatabases.freshH2()) {
      namespacesAreSeparate(db.storage());
    }
  }

  @Test
  void namespacesAreSeparateOnPostgres() {
    TestDatabases.assumePostgres();
    try (TestDatabase db = TestDatabases.freshPostgres()) {
      namespacesAreSeparate(db.storage());
    }
  }

  @Test
  void aVersion1H2DatabaseIsUpgradedAndItsRowsReadBackUnderDefault() throws Exception {
    try (TestDatabase db = TestDatabases.freshH2()) {
      upgradesVersion1(db.storage(), Dialect.H2);
    }
  }

  @Test
  void aVersion1PostgresDatabaseIsUpgradedAndItsRowsReadBackUnderDefault() throws Exception {
    TestDatabases.assumePostgres();
    try (TestDatabase db = TestDatabases.freshPostgres()) {
      upgradesVersion1(db.storage(), Dialect.POSTGRESQL);
    }
  }

  @Test
  void anInvalidNamespaceIsRefusedWithItsName() {
    try (TestDatabase db = TestDatabases.freshH2()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> new CronStore(db.storage(), "shop floor", "shop"));
      assertTrue(e.getMessage().contains("[shop floor]"), e.getMessage());
    }
  }

  private static void namespacesAreSeparate(Storage storage) {
    CronStore a = new CronStore(storage, "a", "a");
    CronStore b = new CronStore(storage, "b", "b");

    // The same job name in both, with different targets; a replaced job stays in its namespace.
    a.saveJob(job("nightly", "target-a"), false);
    b.saveJob(job("nightly", "target-b"), true);
    a.saveJob(job("nightly", "target-a2"), false);
    assertEquals(List.of(new StoredJob(job("nightly", "target-a2"), false)), jobs(a));
    assertEquals(List.of(new StoredJob(job("nightly", "target-b"), true)), jobs(b));

    // The same (job, instant, node) is claimed once in each namespace, not once in all.
    long tokenA = a.takeOver();
    long tokenB = b.takeOver();
    List<ClaimRequest> same = List.of(new ClaimRequest("nightly", T0, "*"));
    assertEquals(List.of(Claim.CLAIMED), a.claim(same, tokenA, null));
    assertEquals(List.of(Claim.CLAIMED), b.claim(same, tokenB, null));
    assertEquals(List.of(Claim.TAKEN), a.claim(same, tokenA, null));
    assertEquals(List.of(Claim.TAKEN), b.claim(same, tokenB, null));
    // Each scheduler's token is its own: b's token did not make a stale.
    assertEquals(
        List.of(Claim.CLAIMED),
        a.claim(List.of(new ClaimRequest("nightly", T1, "*")), tokenA, null));

    // A new scheduler of b closes b's orphaned claims, not a's (a's token is lower than b's).
    long newTokenB = b.takeOver();
    assertTrue(newTokenB > tokenA, "b's new token is above a's, so only the namespace protects a");
    assertEquals(1, b.closeOrphanedClaims(newTokenB));
    assertEquals(List.of("claimed", "claimed"), outcomes(a));
    assertEquals(List.of("uncertain"), outcomes(b));

    // Outcomes and runs that did not happen are recorded in the writer's namespace only.
    a.outcomes(List.of(new Outcome("nightly", T0, "*", "delivered", "on node 1")));
    b.notRun(List.of(new NotRun("nightly", T2, "*", "missed", "no scheduler ran")), newTokenB);
    assertEquals(List.of("delivered", "claimed"), outcomes(a));
    assertEquals(List.of("uncertain", "missed"), outcomes(b));
    assertEquals(Map.of("nightly", T1), a.lastRecorded());
    assertEquals(Map.of("nightly", T2), b.lastRecorded());
    assertEquals(Map.of("nightly", T1), a.lastFired());
    assertEquals(Map.of("nightly", T0), b.lastFired());

    // a prunes all of its history; b's, as old, stays.
    assertEquals(2, a.prune(T2.plusSeconds(1)));
    assertTrue(a.recentRuns(10).isEmpty());
    assertTrue(a.lastRecorded().isEmpty());
    assertEquals(List.of("uncertain", "missed"), outcomes(b));

    // a deletes its job; b's of the same name stays.
    a.deleteJob("nightly");
    assertTrue(jobs(a).isEmpty());
    assertEquals(List.of(new StoredJob(job("nightly", "target-b"), true)), jobs(b));
  }

  private static void upgradesVersion1(Storage storage, Dialect dialect) throws Exception {
    // storage applied the current cron schema to the new database: replace it by version 1.
    String definition = new ObjectMapper().writeValueAsString(job("nightly", "old-target"));
    try (Connection c = storage.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE troupe_cron_run");
      s.execute("DROP TABLE troupe_cron_job");
      for (String statement : version1Statements(dialect)) {
        s.execute(statement);
      }
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO troupe_cron_job (name, definition, paused, updated_at)"
                  + " VALUES ('nightly', ?, FALSE, LOCALTIMESTAMP)")) {
        insert.setString(1, definition);
        insert.executeUpdate();
      }
      s.execute(
          "INSERT INTO troupe_cron_run (job, scheduled_at, node, token, outcome, detail,"
              + " recorded_at) VALUES ('nightly', "
              + T0.toEpochMilli()
              + ", '*', 1, 'delivered', 'on node 1', LOCALTIMESTAMP)");
      s.execute(
          "INSERT INTO troupe_cron_run (job, scheduled_at, node, token, outcome, detail,"
              + " recorded_at) VALUES ('nightly', "
              + T1.toEpochMilli()
              + ", '*', 1, 'missed', 'no scheduler ran', LOCALTIMESTAMP)");
      assertEquals(
          1, s.executeUpdate("UPDATE troupe_schema SET version = 1 WHERE name = 'troupe-cron'"));
    }

    // A store (a node of the new version starting) upgrades the tables.
    CronStore upgraded = new CronStore(storage, "default", "default");
    try (Connection c = storage.dataSource().getConnection();
        Statement s = c.createStatement()) {
      assertEquals(
          new CronSchema().version(),
          single(s, "SELECT version FROM troupe_schema WHERE name = 'troupe-cron'"));
      assertEquals("default", single(s, "SELECT namespace FROM troupe_cron_job"));
      assertEquals(
          "default", single(s, "SELECT DISTINCT namespace FROM troupe_cron_run"), "both runs");
      // Idempotent: a crash before the version was recorded runs the statements again.
      for (String statement : new CronSchema().statements(dialect)) {
        s.execute(statement);
      }
    }

    assertEquals(List.of(new StoredJob(job("nightly", "old-target"), false)), jobs(upgraded));
    assertEquals(
        List.of(
            new JobRun(T1, "missed", "no scheduler ran"), new JobRun(T0, "delivered", "on node 1")),
        upgraded.recentRuns(10).get("nightly"));
    assertEquals(Map.of("nightly", T1), upgraded.lastRecorded());
    assertEquals(Map.of("nightly", T0), upgraded.lastFired());
    long token = upgraded.takeOver();
    List<ClaimRequest> old = List.of(new ClaimRequest("nightly", T0, "*"));
    assertEquals(List.of(Claim.TAKEN), upgraded.claim(old, token, null), "the old row is a claim");

    // Another namespace on the upgraded tables sees none of it and claims the instant for itself.
    CronStore other = new CronStore(storage, "other", "other");
    assertTrue(jobs(other).isEmpty());
    assertTrue(other.recentRuns(10).isEmpty());
    assertTrue(other.lastRecorded().isEmpty());
    assertEquals(List.of(Claim.CLAIMED), other.claim(old, other.takeOver(), null));
    assertEquals(2, upgraded.recentRuns(10).get("nightly").size());

    // The name columns were widened from 200 characters: the longest name fits.
    String longest = "j".repeat(Names.MAX_UTF8_BYTES);
    upgraded.saveJob(job(longest, "t"), false);
    assertTrue(jobs(upgraded).contains(new StoredJob(job(longest, "t"), false)));
    List<ClaimRequest> longClaim = List.of(new ClaimRequest(longest, T2, "*"));
    assertEquals(List.of(Claim.CLAIMED), upgraded.claim(longClaim, upgraded.takeOver(), null));
  }

  @Test
  void aJobStoredUnderANameTheRuleNowRefusesStillLoads() {
    // Before the rule of Names, a job name was any 1-200 characters: such a stored job runs on,
    // and can be unscheduled by name (Cron's calls on existing jobs only require non-blank).
    try (TestDatabase db = TestDatabases.freshH2()) {
      CronStore store = new CronStore(db.storage(), "default", "default");
      JobDefinition legacy = job("nightly report/eu", "t");
      assertFalse(Names.isValid(legacy.name()));
      store.saveJob(legacy, false);
      assertEquals(List.of(new StoredJob(legacy, false)), jobs(store));
      store.deleteJob(legacy.name());
      assertTrue(jobs(store).isEmpty());
    }
  }

  /** The tables of cron schema version 1 (before namespaces), as that version created them. */
  private static List<String> version1Statements(Dialect dialect) {
    String text = dialect == Dialect.POSTGRESQL ? "TEXT" : "CLOB";
    return List.of(
        "CREATE TABLE IF NOT EXISTS troupe_cron_job ("
            + "name VARCHAR(200) PRIMARY KEY, "
            + "definition "
            + text
            + " NOT NULL, "
            + "paused BOOLEAN NOT NULL, "
            + "updated_at TIMESTAMP NOT NULL)",
        "CREATE TABLE IF NOT EXISTS troupe_cron_run ("
            + "job VARCHAR(200) NOT NULL, "
            + "scheduled_at BIGINT NOT NULL, "
            + "node VARCHAR(300) NOT NULL, "
            + "token BIGINT NOT NULL, "
            + "outcome VARCHAR(20) NOT NULL, "
            + "detail VARCHAR(1000), "
            + "recorded_at TIMESTAMP NOT NULL, "
            + "PRIMARY KEY (job, scheduled_at, node))");
  }

  private static Object single(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next(), sql);
      Object value = rs.getObject(1);
      assertTrue(!rs.next(), "one row: " + sql);
      return value;
    }
  }

  private static List<StoredJob> jobs(CronStore store) {
    List<String> unreadable = new ArrayList<>();
    List<StoredJob> jobs = store.jobs(unreadable);
    assertEquals(List.of(), unreadable);
    return jobs;
  }

  /** The outcomes of the runs of job "nightly", oldest first. */
  private static List<String> outcomes(CronStore store) {
    List<JobRun> runs = new ArrayList<>(store.recentRuns(100).getOrDefault("nightly", List.of()));
    java.util.Collections.reverse(runs);
    return runs.stream().map(JobRun::outcome).toList();
  }

  private static JobDefinition job(String name, String target) {
    return new JobDefinition(
        name,
        "* * * * *",
        "UTC",
        CronScope.CLUSTER,
        target,
        null,
        MisfirePolicy.FIRE_ONCE,
        60_000,
        OverlapPolicy.SKIP,
        0,
        0);
  }
}
