package dev.troupe.cron.internal;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import dev.troupe.cron.JobRun;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * INTERNAL API. The cron scheduler's database work: stored jobs, the claims that make a tick fire
 * once, the run history, the scheduler's fencing token and the database clock. Blocking: the
 * scheduler calls it on the blocking dispatcher.
 *
 * <p>Every statement on {@code troupe_cron_job} and {@code troupe_cron_run} reads, writes or
 * deletes only the rows of this store's namespace ({@code troupe.namespace}): clusters with
 * different namespaces on one database never see, claim or delete each other's jobs and runs. The
 * fencing token is named after the lock namespace ({@code troupe.lock.namespace}, by default the
 * same).
 */
public final class CronStore {
  /*
   * The claim: INSERT INTO troupe_cron_run (namespace, job, scheduled_at, node, token, ...) SELECT
   * ... FROM troupe_lock_epoch WHERE name = '<lock namespace>:cron-scheduler' AND epoch = <token>.
   * The primary key (namespace, job, scheduled_at, node) lets one claim per instant and namespace
   * succeed; the join with the epoch row lets only the scheduler holding the latest token claim at
   * all: a scheduler that was replaced (paused, partitioned) inserts nothing and learns it is
   * stale.
   */

  /** A stored job. */
  public record StoredJob(JobDefinition definition, boolean paused) {}

  /** What a claim found. */
  public enum Claim {
    /** This scheduler claimed the instant: fire it. */
    CLAIMED,
    /** Someone already claimed it: do not fire. */
    TAKEN,
    /** A later scheduler exists: this one must stop. */
    STALE,
    /** The instant is not due yet by the database's clock: claim it later. */
    EARLY
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Storage storage;
  private final String namespace;
  private final String lockNamespace;
  private final String tokenName;

  /**
   * A store of the rows of {@code namespace} ({@code troupe.namespace}) whose scheduler's fencing
   * token is {@code <lockNamespace>:cron-scheduler} ({@code troupe.lock.namespace}).
   *
   * @throws IllegalArgumentException if {@code namespace} is not a valid namespace, or {@code
   *     lockNamespace} is blank
   */
  public CronStore(Storage storage, String namespace, String lockNamespace) {
    this.storage = requireNonNull(storage, "storage");
    this.namespace = Namespaces.requireValid(namespace, "namespace");
    this.lockNamespace = requireNonBlank(lockNamespace, "lockNamespace");
    this.tokenName = lockNamespace + ":cron-scheduler";
    storage.ensureSchema(new CronSchema());
  }

  /** The namespace of this store's rows. */
  public String namespace() {
    return namespace;
  }

  /** The name of the scheduler's fencing token in {@code troupe_lock_epoch}. */
  public String tokenName() {
    return tokenName;
  }

  /** Raises and returns this scheduler's fencing token. */
  public long takeOver() {
    return JdbcLockRegistry.nextToken(storage, lockNamespace, "cron-scheduler");
  }

  /** One instant to claim: (job, scheduledAt, node); node is {@code *} for CLUSTER jobs. */
  public record ClaimRequest(String job, Instant scheduledAt, String node) {}

  /**
   * Claims {@code requests} with {@code token}, in one transaction (one commit for a whole wake of
   * the scheduler). With {@code earlyMarginMillis} the database refuses an instant further than
   * that ahead of its own clock ({@link Claim#EARLY}); null leaves the due time to the caller (a
   * test's clock).
   */
  public List<Claim> claim(List<ClaimRequest> requests, long token, Long earlyMarginMillis) {
    boolean guard = earlyMarginMillis != null && storage.dialect() != Dialect.OTHER;
    String sql =
        "INSERT INTO troupe_cron_run (namespace, job, scheduled_at, node, token, outcome,"
            + " recorded_at) SELECT ?, ?, ?, ?, ?, 'claimed', LOCALTIMESTAMP FROM"
            + " troupe_lock_epoch e WHERE e.name = ? AND e.epoch = ?"
            + (guard
                ? " AND CAST(? AS BIGINT) <= CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS"
                    + " BIGINT) + CAST(? AS BIGINT)"
                : "")
            + " AND NOT EXISTS (SELECT 1 FROM troupe_cron_run r"
            + " WHERE r.namespace = ? AND r.job = ? AND r.scheduled_at = ? AND r.node = ?)";
    return run(
        "claim " + requests.size() + " instant(s)",
        c -> {
          c.setAutoCommit(false);
          try {
            List<Claim> claims = claimAll(c, sql, guard, requests, token, earlyMarginMillis);
            c.commit();
            return claims;
          } catch (SQLException e) {
            c.rollback();
            if (!StorageException.isConstraintViolation(e)) {
              throw e;
            }
            // A concurrent insert of the same instant: claim one by one, a conflict is TAKEN.
            c.setAutoCommit(true);
            return claimAll(c, sql, guard, requests, token, earlyMarginMillis);
          }
        });
  }

  private List<Claim> claimAll(
      Connection c,
      String sql,
      boolean guard,
      List<ClaimRequest> requests,
      long token,
      Long earlyMarginMillis)
      throws SQLException {
    List<Claim> claims = new ArrayList<>(requests.size());
    try (PreparedStatement insert = c.prepareStatement(sql)) {
      for (ClaimRequest r : requests) {
        int i = 1;
        insert.setString(i++, namespace);
        insert.setString(i++, r.job());
        insert.setLong(i++, r.scheduledAt().toEpochMilli());
        insert.setString(i++, r.node());
        insert.setLong(i++, token);
        insert.setString(i++, tokenName);
        insert.setLong(i++, token);
        if (guard) {
          insert.setLong(i++, r.scheduledAt().toEpochMilli());
          insert.setLong(i++, earlyMarginMillis);
        }
        insert.setString(i++, namespace);
        insert.setString(i++, r.job());
        insert.setLong(i++, r.scheduledAt().toEpochMilli());
        insert.setString(i, r.node());
        Claim claim;
        try {
          claim = insert.executeUpdate() == 1 ? Claim.CLAIMED : notInserted(c, r, token);
        } catch (SQLException e) {
          if (!c.getAutoCommit() || !StorageException.isConstraintViolation(e)) {
            throw e;
          }
          claim = Claim.TAKEN;
        }
        claims.add(claim);
      }
    }
    return claims;
  }

  /** Why nothing was inserted: a later token (STALE), the row exists (TAKEN), or EARLY. */
  private Claim notInserted(Connection c, ClaimRequest r, long token) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("SELECT epoch FROM troupe_lock_epoch WHERE name = ?")) {
      s.setString(1, tokenName);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next() || rs.getLong(1) != token) {
          return Claim.STALE;
        }
      }
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT 1 FROM troupe_cron_run"
                + " WHERE namespace = ? AND job = ? AND scheduled_at = ? AND node = ?")) {
      s.setString(1, namespace);
      s.setString(2, r.job());
      s.setLong(3, r.scheduledAt().toEpochMilli());
      s.setString(4, r.node());
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Claim.TAKEN : Claim.EARLY;
      }
    }
  }

  /**
   * Hands the claims of earlier schedulers for {@code jobs} (CATCH_UP jobs) that no node marked
   * delivered, at or after {@code notBefore} (per job), to the scheduler of {@code token}, which
   * delivers them again: the delivering node's {@link #markDelivering} lets one delivery of each
   * through. Returns them, oldest first.
   */
  public List<ClaimRequest> adoptOrphanedClaims(long token, Map<String, Instant> notBefore) {
    if (notBefore.isEmpty()) {
      return List.of();
    }
    return storage.inTransaction(
        "adopt the orphaned claims of " + notBefore.size() + " CATCH_UP job(s)",
        c -> {
          List<ClaimRequest> adopted = new ArrayList<>();
          try (PreparedStatement select =
                  c.prepareStatement(
                      "SELECT scheduled_at, node FROM troupe_cron_run WHERE namespace = ? AND"
                          + " job = ? AND outcome = 'claimed' AND token < ? AND scheduled_at >= ?"
                          + " ORDER BY scheduled_at, node FOR UPDATE");
              PreparedStatement update =
                  c.prepareStatement(
                      "UPDATE troupe_cron_run SET token = ? WHERE namespace = ? AND job = ? AND"
                          + " outcome = 'claimed' AND token < ? AND scheduled_at >= ?")) {
            for (Map.Entry<String, Instant> job : notBefore.entrySet()) {
              select.setString(1, namespace);
              select.setString(2, job.getKey());
              select.setLong(3, token);
              select.setLong(4, job.getValue().toEpochMilli());
              try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                  adopted.add(
                      new ClaimRequest(
                          job.getKey(), Instant.ofEpochMilli(rs.getLong(1)), rs.getString(2)));
                }
              }
              update.setLong(1, token);
              update.setString(2, namespace);
              update.setString(3, job.getKey());
              update.setLong(4, token);
              update.setLong(5, job.getValue().toEpochMilli());
              update.executeUpdate();
            }
          }
          adopted.sort(
              java.util.Comparator.comparing(ClaimRequest::scheduledAt)
                  .thenComparing(ClaimRequest::job)
                  .thenComparing(ClaimRequest::node));
          return adopted;
        });
  }

  /**
   * Marks a claimed instant as being delivered, before its node sends the tick (CATCH_UP jobs):
   * true for the first caller, false if it was marked before (another delivery of the same claim
   * went out) or has an outcome already.
   */
  public boolean markDelivering(String job, Instant scheduledAt, String node) {
    return markDelivering(List.of(new ClaimRequest(job, scheduledAt, node))).get(0);
  }

  /**
   * {@link #markDelivering(String, Instant, String)} for many claims in one transaction and one
   * round trip (the ticks of one instant on one node): a node that dies between the mark and the
   * ticks loses as little as possible. Answers in the order of {@code claims}.
   */
  public List<Boolean> markDelivering(List<ClaimRequest> claims) {
    return storage.inTransaction(
        "mark " + claims.size() + " tick(s) delivered",
        c -> {
          try (PreparedStatement update =
              c.prepareStatement(
                  "UPDATE troupe_cron_run SET outcome = 'delivering', recorded_at = LOCALTIMESTAMP"
                      + " WHERE namespace = ? AND job = ? AND scheduled_at = ? AND node = ?"
                      + " AND outcome = 'claimed'")) {
            for (ClaimRequest claim : claims) {
              update.setString(1, namespace);
              update.setString(2, claim.job());
              update.setLong(3, claim.scheduledAt().toEpochMilli());
              update.setString(4, claim.node());
              update.addBatch();
            }
            int[] counts = update.executeBatch();
            List<Boolean> first = new ArrayList<>(counts.length);
            for (int count : counts) {
              first.add(count == 1);
            }
            return first;
          }
        });
  }

  /**
   * Closes what earlier schedulers left open: claims that no node marked delivered become {@code
   * uncertain} (the scheduler stopped between its claim and the agent's answer: the tick may or may
   * not have reached its target), and instants a node marked as being delivered become {@code
   * delivered}. Call it after {@link #adoptOrphanedClaims}. Returns how many claims became
   * uncertain.
   */
  public int closeOrphanedClaims(long token) {
    return run(
        "close orphaned claims",
        c -> {
          try (PreparedStatement delivered =
              c.prepareStatement(
                  "UPDATE troupe_cron_run SET outcome = 'delivered', detail = ?, recorded_at ="
                      + " LOCALTIMESTAMP WHERE namespace = ? AND outcome = 'delivering'"
                      + " AND token < ?")) {
            delivered.setString(
                1,
                "its node marked it delivered; the outcome was not reported before the scheduler"
                    + " changed");
            delivered.setString(2, namespace);
            delivered.setLong(3, token);
            delivered.executeUpdate();
          }
          try (PreparedStatement update =
              c.prepareStatement(
                  "UPDATE troupe_cron_run SET outcome = 'uncertain', detail = ?, recorded_at ="
                      + " LOCALTIMESTAMP WHERE namespace = ? AND outcome = 'claimed'"
                      + " AND token < ?")) {
            update.setString(
                1,
                "claimed by a scheduler that stopped before the delivery was confirmed;"
                    + " the tick may or may not have been delivered");
            update.setString(2, namespace);
            update.setLong(3, token);
            return update.executeUpdate();
          }
        });
  }

  /** Deletes the history recorded before {@code before}; returns how many rows. */
  public int prune(Instant before) {
    return run(
        "prune the history",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement(
                  "DELETE FROM troupe_cron_run WHERE namespace = ? AND scheduled_at < ?")) {
            delete.setString(1, namespace);
            delete.setLong(2, before.toEpochMilli());
            return delete.executeUpdate();
          }
        });
  }

  /** The outcome of a claimed run. */
  public record Outcome(
      String job, Instant scheduledAt, String node, String outcome, String detail) {}

  /** Records the outcomes of claimed runs, in one batch. */
  public void outcomes(List<Outcome> outcomes) {
    run(
        "record " + outcomes.size() + " outcome(s)",
        c -> {
          try (PreparedStatement update =
              c.prepareStatement(
                  "UPDATE troupe_cron_run SET outcome = ?, detail = ?, recorded_at = LOCALTIMESTAMP"
                      + " WHERE namespace = ? AND job = ? AND scheduled_at = ? AND node = ?")) {
            for (Outcome o : outcomes) {
              update.setString(1, o.outcome());
              update.setString(2, truncate(o.detail()));
              update.setString(3, namespace);
              update.setString(4, o.job());
              update.setLong(5, o.scheduledAt().toEpochMilli());
              update.setString(6, o.node());
              update.addBatch();
            }
            c.setAutoCommit(false);
            update.executeBatch();
            c.commit();
          }
          return null;
        });
  }

  /** The latest recorded instant of each job with a history, any outcome. */
  public Map<String, Instant> lastRecorded() {
    return latest(
        "SELECT job, MAX(scheduled_at) FROM troupe_cron_run WHERE namespace = ? GROUP BY job");
  }

  /** The latest instant of each job that was delivered (or claimed, completed, failed). */
  public Map<String, Instant> lastFired() {
    return latest(
        "SELECT job, MAX(scheduled_at) FROM troupe_cron_run WHERE namespace = ? AND outcome IN"
            + " ('claimed', 'delivering', 'delivered', 'completed', 'failed', 'uncertain') GROUP BY"
            + " job");
  }

  private Map<String, Instant> latest(String sql) {
    return run(
        "read the history",
        c -> {
          Map<String, Instant> latest = new HashMap<>();
          try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, namespace);
            try (ResultSet rs = s.executeQuery()) {
              while (rs.next()) {
                latest.put(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)));
              }
            }
          }
          return latest;
        });
  }

  /** Records several runs that did not happen; see {@link #notRun}. */
  public void notRun(List<NotRun> rows, long token) {
    if (rows.isEmpty()) {
      return;
    }
    run(
        "record " + rows.size() + " run(s)",
        c -> {
          try (PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO troupe_cron_run (namespace, job, scheduled_at, node, token,"
                      + " outcome, detail, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?,"
                      + " LOCALTIMESTAMP)")) {
            for (NotRun r : rows) {
              insert.setString(1, namespace);
              insert.setString(2, r.job());
              insert.setLong(3, r.scheduledAt().toEpochMilli());
              insert.setString(4, r.node());
              insert.setLong(5, token);
              insert.setString(6, r.outcome());
              insert.setString(7, truncate(r.detail()));
              try {
                insert.executeUpdate();
              } catch (SQLException e) {
                if (!StorageException.isConstraintViolation(e)) {
                  throw e;
                }
              }
            }
          }
          return null;
        });
  }

  /** A run that did not happen: skipped or missed, and why. */
  public record NotRun(
      String job, Instant scheduledAt, String node, String outcome, String detail) {}

  /**
   * The latest {@code limit} runs of each of {@code jobs}, newest first: one bounded query per job
   * on the primary key's index (namespace, job, scheduled_at, node), read backwards, so the cost
   * does not grow with the history kept (seven days by default). What the dashboard and {@code
   * Cron.jobs()} read.
   */
  public Map<String, List<JobRun>> recentRuns(Collection<String> jobs, int limit) {
    return run(
        "read the history of " + jobs.size() + " job(s)",
        c -> {
          Map<String, List<JobRun>> runs = new HashMap<>();
          try (PreparedStatement s =
              c.prepareStatement(
                  "SELECT scheduled_at, outcome, detail, node FROM troupe_cron_run"
                      + " WHERE namespace = ? AND job = ?"
                      + " ORDER BY scheduled_at DESC, node DESC LIMIT ?")) {
            for (String job : jobs) {
              s.setString(1, namespace);
              s.setString(2, job);
              s.setInt(3, limit);
              try (ResultSet rs = s.executeQuery()) {
                List<JobRun> list = new ArrayList<>();
                while (rs.next()) {
                  String detail = rs.getString(3);
                  String node = rs.getString(4);
                  list.add(
                      new JobRun(
                          Instant.ofEpochMilli(rs.getLong(1)),
                          rs.getString(2),
                          detail != null ? detail : "*".equals(node) ? "" : node));
                }
                if (!list.isEmpty()) {
                  runs.put(job, list);
                }
              }
            }
          }
          return runs;
        });
  }

  /** The latest {@code limit} runs of every job, newest first. */
  public Map<String, List<JobRun>> recentRuns(int limit) {
    return run(
        "read the history",
        c -> {
          Map<String, List<JobRun>> runs = new HashMap<>();
          try (PreparedStatement s =
              c.prepareStatement(
                  "SELECT job, scheduled_at, outcome, detail, node FROM (SELECT job, scheduled_at,"
                      + " outcome, detail, node, ROW_NUMBER() OVER (PARTITION BY job ORDER BY"
                      + " scheduled_at DESC, node) AS rn FROM troupe_cron_run"
                      + " WHERE namespace = ?) t WHERE rn <= ? ORDER BY job, scheduled_at DESC,"
                      + " node")) {
            s.setString(1, namespace);
            s.setInt(2, limit);
            try (ResultSet rs = s.executeQuery()) {
              while (rs.next()) {
                String detail = rs.getString(4);
                String node = rs.getString(5);
                runs.computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
                    .add(
                        new JobRun(
                            Instant.ofEpochMilli(rs.getLong(2)),
                            rs.getString(3),
                            detail != null ? detail : "*".equals(node) ? "" : node));
              }
            }
          }
          return runs;
        });
  }

  /**
   * The database clock minus {@code clock}, in milliseconds: of five readings on one connection,
   * the one with the shortest round trip, against the middle of that round trip.
   */
  public long clockOffset(java.time.Clock clock) {
    return run(
        "read the database clock",
        c -> {
          long best = Long.MAX_VALUE;
          long offset = 0;
          try (PreparedStatement s = c.prepareStatement("SELECT CURRENT_TIMESTAMP")) {
            for (int i = 0; i < 5; i++) {
              long before = clock.millis();
              long beforeNanos = System.nanoTime();
              Instant db;
              try (ResultSet rs = s.executeQuery()) {
                rs.next();
                db = rs.getObject(1, OffsetDateTime.class).toInstant();
              }
              long rtt = System.nanoTime() - beforeNanos;
              if (rtt < best) {
                best = rtt;
                offset = db.toEpochMilli() - (before + rtt / 2_000_000);
              }
            }
          }
          return offset;
        });
  }

  /** Stores (or replaces) a job scheduled at run time. */
  public void saveJob(JobDefinition definition, boolean paused) {
    String json;
    try {
      json = JSON.writeValueAsString(definition);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot store job [" + definition.name() + "]", e);
    }
    run(
        "store job [" + definition.name() + "]",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement("DELETE FROM troupe_cron_job WHERE namespace = ? AND name = ?")) {
            delete.setString(1, namespace);
            delete.setString(2, definition.name());
            delete.executeUpdate();
          }
          try (PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO troupe_cron_job (namespace, name, definition, paused, updated_at)"
                      + " VALUES (?, ?, ?, ?, LOCALTIMESTAMP)")) {
            insert.setString(1, namespace);
            insert.setString(2, definition.name());
            insert.setString(3, json);
            insert.setBoolean(4, paused);
            insert.executeUpdate();
          }
          return null;
        });
  }

  /** Forgets a stored job. */
  public void deleteJob(String name) {
    run(
        "delete job [" + name + "]",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement("DELETE FROM troupe_cron_job WHERE namespace = ? AND name = ?")) {
            delete.setString(1, namespace);
            delete.setString(2, name);
            delete.executeUpdate();
          }
          return null;
        });
  }

  /** Every stored job; rows that no longer parse are skipped (and reported by the caller). */
  public List<StoredJob> jobs(List<String> unreadable) {
    return run(
        "read the stored jobs",
        c -> {
          List<StoredJob> jobs = new ArrayList<>();
          try (PreparedStatement s =
              c.prepareStatement(
                  "SELECT name, definition, paused FROM troupe_cron_job WHERE namespace = ?")) {
            s.setString(1, namespace);
            try (ResultSet rs = s.executeQuery()) {
              while (rs.next()) {
                try {
                  JobDefinition definition =
                      JSON.readValue(rs.getString(2), JobDefinition.class).validated();
                  jobs.add(new StoredJob(definition, rs.getBoolean(3)));
                } catch (JsonProcessingException | IllegalArgumentException e) {
                  unreadable.add(rs.getString(1) + ": " + e.getMessage());
                }
              }
            }
          }
          return jobs;
        });
  }

  private static String truncate(String s) {
    return s == null || s.length() <= 1000 ? s : s.substring(0, 1000);
  }

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T run(String what, Work<T> work) {
    try (Connection c = storage.dataSource().getConnection()) {
      c.setAutoCommit(true);
      return work.run(c);
    } catch (SQLException e) {
      throw new StorageException(
          "Cron: cannot " + what + " on [" + storage.displayUrl() + "]: " + e.getMessage(), e);
    }
  }
}
