package dev.troupe.samples.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The offline checker: reads the witness lines of every node log in a run directory and the
 * database the run used, and computes what the guarantees promise — lost acknowledged writes,
 * duplicate and unrecorded cron fires, fenced writes accepted from a replaced daemon instance or
 * lock holder — and the longest service gaps; for CATCH_UP jobs, that every scheduled second was
 * delivered exactly once ({@link CatchUp}). {@code java ... Checker <run-dir>} re-checks a saved
 * run.
 */
public final class Checker {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** {@code troupe.cron.misfire-threshold} as shipped: a tick later than this is a catch-up. */
  static final long MISFIRE_THRESHOLD_MILLIS = 1000;

  /** CATCH_UP instants this close to the end of the run are not judged (still on their way). */
  static final long CATCH_UP_TAIL_MILLIS = 5000;

  /** The only spec the CATCH_UP check walks: every second, as the harness's jobs fire. */
  private static final String EVERY_SECOND = "* * * * * *";

  private static final int MAX_EVIDENCE = 40;

  /** The detail of a claim a successor closed as delivered: its node had marked it (CronStore). */
  private static final String MARKED_UNREPORTED = "its node marked it delivered";

  private static final Pattern ADOPTED =
      Pattern.compile("(\\d+) undelivered CATCH_UP claim\\(s\\) delivered again");
  private static final Pattern NO_REPORT =
      Pattern.compile("no report for \\[[^\\]]+\\] at \\S+: delivering it again");

  /** What one run showed. Violations are the guarantees broken; the rest are measurements. */
  public record Result(
      int ackedWrites,
      int lostAcks,
      int ticks,
      int duplicateTicks,
      int unrecordedMisses,
      int recordedMisses,
      int claimedUndelivered,
      int deliveredUnwitnessed,
      long maxTickLatenessMillis,
      int daemonBeats,
      int staleDaemonWrites,
      long maxDaemonGapMillis,
      int lockWrites,
      int lockHolders,
      int staleLockWrites,
      long maxLockGapMillis,
      long maxCronGapMillis,
      long maxAckGapMillis,
      long maxLifetimeOverlapMillis,
      int equalEpochDuplicates,
      Overlap daemonBelief,
      Overlap lockBelief,
      Overlap schedulerBelief,
      Overlap workerBelief,
      int lostUpdates,
      CatchUp catchUp) {

    /** The broken guarantees, in words; empty when the run kept every promise. */
    public List<String> violations() {
      List<String> v = new ArrayList<>();
      if (lostAcks > 0) {
        v.add(lostAcks + " acknowledged write(s) not in the database");
      }
      if (duplicateTicks > 0) {
        v.add(duplicateTicks + " cron instant(s) delivered more than once");
      }
      if (unrecordedMisses > 0) {
        v.add(unrecordedMisses + " cron instant(s) neither delivered nor recorded");
      }
      if (staleDaemonWrites > 0) {
        v.add(staleDaemonWrites + " daemon write(s) accepted from a replaced instance");
      }
      if (staleLockWrites > 0) {
        v.add(staleLockWrites + " lock write(s) accepted from a former holder");
      }
      if (equalEpochDuplicates > 0) {
        v.add(equalEpochDuplicates + " daemon epoch(s) started by more than one instance");
      }
      if (daemonBelief.pairs() > 0) {
        v.add(
            daemonBelief.pairs()
                + " pair(s) of daemon instances that both believed they ran at one moment"
                + " (longest "
                + daemonBelief.maxMillis()
                + " ms: "
                + daemonBelief.worst()
                + ")");
      }
      if (lockBelief.pairs() > 0) {
        v.add(
            lockBelief.pairs()
                + " pair(s) of lock holders that both believed they held it at one moment"
                + " (longest "
                + lockBelief.maxMillis()
                + " ms: "
                + lockBelief.worst()
                + ")");
      }
      if (schedulerBelief.pairs() > 0) {
        v.add(
            schedulerBelief.pairs()
                + " pair(s) of cron schedulers that both believed they were the scheduler at one"
                + " moment (longest "
                + schedulerBelief.maxMillis()
                + " ms: "
                + schedulerBelief.worst()
                + ")");
      }
      if (workerBelief.pairs() > 0) {
        v.add(
            workerBelief.pairs()
                + " pair(s) of fleet worker activations of one key acting at once (longest "
                + workerBelief.maxMillis()
                + " ms: "
                + workerBelief.worst()
                + ")");
      }
      if (lostUpdates > 0) {
        v.add(lostUpdates + " read-modify-write update(s) lost (counters below their rows)");
      }
      if (!catchUp.jobs().isEmpty()) {
        if (catchUp.missed() > 0) {
          v.add(
              catchUp.missed()
                  + " CATCH_UP instant(s) never delivered (no tick witnessed on any node)");
        }
        if (catchUp.twice() > 0) {
          v.add(catchUp.twice() + " CATCH_UP instant(s) delivered more than once");
        }
        if (catchUp.instants() == 0) {
          v.add("the CATCH_UP jobs delivered nothing to check");
        }
      }
      if (ackedWrites == 0 || ticks == 0 || daemonBeats == 0 || lockWrites == 0) {
        v.add("a workload produced nothing (acks, ticks, beats or lock writes is 0)");
      }
      return v;
    }
  }

  /**
   * Issue 19's measure, for the CATCH_UP jobs (read from {@code troupe_cron_job}): every second
   * from a job's first delivered instant until {@link #CATCH_UP_TAIL_MILLIS} before the end of the
   * run (the driver's {@code stop-all}, else the last witness line) must have been delivered — a
   * {@code tick} witness line on some node — exactly once, whatever the database says.
   *
   * @param jobs the CATCH_UP jobs checked
   * @param instants the scheduled instants judged, over all of them
   * @param missed instants without a delivery witness (violation)
   * @param missedMarked of those, the instants whose row says a node marked them (delivering, or
   *     closed as delivered by a successor): the node died between its mark and the tick
   * @param twice instants delivered more than once (violation)
   * @param late instants first delivered more than {@link #MISFIRE_THRESHOLD_MILLIS} after their
   *     instant: the catch-ups
   * @param maxLatenessMillis the latest first delivery
   * @param outOfOrder instants first delivered before an earlier instant of their job was (CATCH_UP
   *     promises the late ones in order); information
   * @param markedUnreported judged instants whose row a successor closed as {@code delivered}
   *     because the delivering node had marked it but the report died with the scheduler (or still
   *     {@code delivering} at the end): the database's word that a tick left
   * @param log what the schedulers' log lines say they handed out again
   * @param evidence each missed or doubled instant (at most {@value #MAX_EVIDENCE}) with its
   *     deliveries, its {@code troupe_cron_run} row and the faults around it; the first five
   *     instants out of order; the jobs not checked
   */
  public record CatchUp(
      List<String> jobs,
      int instants,
      int missed,
      int missedMarked,
      int twice,
      int late,
      long maxLatenessMillis,
      int outOfOrder,
      int markedUnreported,
      SchedulerLog log,
      List<String> evidence) {
    static final CatchUp NONE =
        new CatchUp(List.of(), 0, 0, 0, 0, 0, 0, 0, 0, SchedulerLog.UNKNOWN, List.of());
  }

  /**
   * CATCH_UP claims handed out again, from the schedulers' INFO lines in the node logs; -1 each
   * when no take-over line says it (the logs do not carry them).
   *
   * @param adopted a predecessor's claims that no node had marked, delivered again by its successor
   *     ("N undelivered CATCH_UP claim(s) delivered again" at each take-over)
   * @param deliveredAgain deliveries without a report in time, sent again through the current owner
   *     ("no report for [job] at instant: delivering it again")
   */
  public record SchedulerLog(int adopted, int deliveredAgain) {
    static final SchedulerLog UNKNOWN = new SchedulerLog(-1, -1);

    @Override
    public String toString() {
      return adopted < 0
          ? "not in the logs"
          : adopted + " adopted by a successor, " + deliveredAgain + " sent again without a report";
    }
  }

  /** One row of {@code troupe_cron_run} for a CLUSTER job's instant. */
  record CronRow(String outcome, long token, String detail) {
    @Override
    public String toString() {
      return outcome + " (token " + token + (detail == null ? "" : ", '" + detail + "'") + ")";
    }
  }

  private Checker() {}

  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: Checker <run-dir>");
      System.exit(2);
    }
    Result result = check(Path.of(args[0]));
    System.out.println(result);
    CatchUp catchUp = result.catchUp();
    if (!catchUp.jobs().isEmpty()) {
      System.out.println(
          "CATCH_UP "
              + catchUp.jobs()
              + ": "
              + catchUp.instants()
              + " instants, "
              + catchUp.missed()
              + " missed ("
              + catchUp.missedMarked()
              + " marked by a node that died), "
              + catchUp.twice()
              + " twice, "
              + catchUp.late()
              + " late (longest "
              + catchUp.maxLatenessMillis()
              + " ms), "
              + catchUp.outOfOrder()
              + " out of order, "
              + catchUp.markedUnreported()
              + " closed as delivered by a successor; claims handed out again: "
              + catchUp.log());
      catchUp.evidence().forEach(line -> System.out.println("  " + line));
    }
    System.out.println(result.violations().isEmpty() ? "OK" : "VIOLATIONS " + result.violations());
    System.exit(result.violations().isEmpty() ? 0 : 1);
  }

  /** Checks the run in {@code runDir} (node logs {@code *.log}, {@code db.url}). */
  public static Result check(Path runDir) {
    List<JsonNode> events = witness(runDir);
    String url = read(runDir.resolve("db.url")).trim();
    Set<String> stored = new HashSet<>();
    Map<String, Map<Long, CronRow>> runs = new HashMap<>();
    Map<String, String> catchUpJobs = new TreeMap<>();
    Map<String, Long> counters = new HashMap<>();
    Map<String, Long> rowsPerKey = new HashMap<>();
    try (Connection c = DriverManager.getConnection(url)) {
      // One snapshot for every read: the nodes may still be writing, and a write committed between
      // reading the counters and counting the rows would look like a lost update.
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      c.setAutoCommit(false);
      readDatabase(c, counters, rowsPerKey, stored, runs, catchUpJobs);
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the run's database " + url + ": " + e, e);
    }

    // Acknowledged writes.
    Set<String> acked = new HashSet<>();
    List<Long> ackTimes = new ArrayList<>();
    for (JsonNode e : of(events, "write_ack")) {
      acked.add(e.get("id").asText());
      ackTimes.add(e.get("t").asLong());
    }
    int lost = 0;
    for (String id : acked) {
      if (!stored.contains(id)) {
        lost++;
      }
    }

    // Cron ticks.
    Map<String, Map<Long, Integer>> delivered = new TreeMap<>();
    Map<String, List<Long>> receipts = new HashMap<>();
    long maxLateness = 0;
    List<JsonNode> ticks = of(events, "tick");
    for (JsonNode e : ticks) {
      String job = e.get("name").asText();
      long at = e.get("at").asLong();
      delivered.computeIfAbsent(job, j -> new TreeMap<>()).merge(at, 1, Integer::sum);
      receipts.computeIfAbsent(job, j -> new ArrayList<>()).add(e.get("t").asLong());
      maxLateness = Math.max(maxLateness, e.get("t").asLong() - at);
    }
    int duplicates = 0;
    int unrecorded = 0;
    int recorded = 0;
    int claimedUndelivered = 0;
    int unwitnessed = 0;
    for (var job : delivered.entrySet()) {
      TreeMap<Long, Integer> instants = (TreeMap<Long, Integer>) job.getValue();
      Map<Long, CronRow> outcomes = runs.getOrDefault(job.getKey(), Map.of());
      for (int n : instants.values()) {
        duplicates += n > 1 ? n - 1 : 0;
      }
      for (long at = instants.firstKey(); at <= instants.lastKey(); at += 1000) {
        if (instants.containsKey(at)) {
          continue;
        }
        CronRow row = outcomes.get(at);
        String outcome = row == null ? null : row.outcome();
        if (outcome == null || outcome.equals("claimed")) {
          unrecorded++;
        } else if (outcome.equals("delivered") || outcome.equals("completed")) {
          unwitnessed++; // sent to a node that died before it printed the tick
        } else if (outcome.equals("uncertain")) {
          claimedUndelivered++; // claimed by a scheduler that died: a miss, not a skip
        } else {
          recorded++;
        }
      }
    }
    long cronGap = 0;
    for (List<Long> times : receipts.values()) {
      cronGap = Math.max(cronGap, maxGap(times));
    }

    // Fenced writes of daemons and of the lock holder.
    Fenced daemons = fenced(of(events, "beat"));
    Fenced lock = fenced(of(events, "lock_write"));
    Set<Long> holders = new HashSet<>();
    for (JsonNode e : of(events, "lock_acquire")) {
      holders.add(e.get("epoch").asLong());
    }

    return new Result(
        acked.size(),
        lost,
        ticks.size(),
        duplicates,
        unrecorded,
        recorded,
        claimedUndelivered,
        unwitnessed,
        maxLateness,
        daemons.accepted,
        daemons.stale,
        daemons.maxGap,
        lock.accepted,
        holders.size(),
        lock.stale,
        lock.maxGap,
        cronGap,
        maxGap(ackTimes),
        lifetimeOverlap(events),
        equalEpochDuplicates(events),
        daemonBeliefOverlap(events),
        lockBeliefOverlap(events),
        schedulerBeliefOverlap(events),
        workerBeliefOverlap(events),
        lostUpdates(counters, rowsPerKey),
        catchUpJobs.isEmpty()
            ? CatchUp.NONE
            : catchUp(
                catchUpJobs,
                ticks,
                runEnd(runDir, events),
                runs,
                driver(runDir),
                schedulerLog(runDir)));
  }

  private static void readDatabase(
      Connection c,
      Map<String, Long> counters,
      Map<String, Long> rowsPerKey,
      Set<String> stored,
      Map<String, Map<Long, CronRow>> runs,
      Map<String, String> catchUpJobs)
      throws SQLException {
    try (Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT k, n FROM chaos_counter")) {
        while (rs.next()) {
          counters.put(rs.getString(1), rs.getLong(2));
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT k, count(*) FROM chaos_write GROUP BY k")) {
        while (rs.next()) {
          rowsPerKey.put(rs.getString(1), rs.getLong(2));
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT id FROM chaos_write")) {
        while (rs.next()) {
          stored.add(rs.getString(1));
        }
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT job, scheduled_at, outcome, token, detail FROM troupe_cron_run"
                  + " WHERE job LIKE 'c-%'")) {
        while (rs.next()) {
          runs.computeIfAbsent(rs.getString(1), j -> new HashMap<>())
              .put(rs.getLong(2), new CronRow(rs.getString(3), rs.getLong(4), rs.getString(5)));
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT name, definition FROM troupe_cron_job")) {
        while (rs.next()) {
          try {
            JsonNode definition = JSON.readTree(rs.getString(2));
            if (definition.path("misfire").asText().equals("CATCH_UP")) {
              catchUpJobs.put(rs.getString(1), definition.path("spec").asText());
            }
          } catch (IOException e) {
            throw new SQLException("unreadable definition of job " + rs.getString(1), e);
          }
        }
      }
    }
  }

  /**
   * The CATCH_UP check over {@code ticks} (every {@code tick} witness line) for {@code jobs} (name
   * to spec): see {@link CatchUp}. {@code end} is the end of the run, {@code runs} the jobs' rows
   * of {@code troupe_cron_run}, {@code faults} the driver's lines (for the evidence), {@code log}
   * what the scheduler logs say.
   */
  static CatchUp catchUp(
      Map<String, String> jobs,
      List<JsonNode> ticks,
      long end,
      Map<String, Map<Long, CronRow>> runs,
      List<JsonNode> faults,
      SchedulerLog log) {
    Map<String, TreeMap<Long, List<JsonNode>>> deliveries = new TreeMap<>();
    for (JsonNode e : ticks) {
      if (jobs.containsKey(e.get("name").asText())) {
        deliveries
            .computeIfAbsent(e.get("name").asText(), j -> new TreeMap<>())
            .computeIfAbsent(e.get("at").asLong(), at -> new ArrayList<>())
            .add(e);
      }
    }
    List<String> checked = new ArrayList<>();
    List<String> evidence = new ArrayList<>();
    List<String> unchecked = new ArrayList<>();
    int instants = 0;
    int missed = 0;
    int missedMarked = 0;
    int twice = 0;
    int late = 0;
    int markedUnreported = 0;
    int outOfOrder = 0;
    List<String> orderEvidence = new ArrayList<>();
    long maxLateness = 0;
    long last = end - CATCH_UP_TAIL_MILLIS;
    for (Map.Entry<String, String> job : jobs.entrySet()) {
      if (!job.getValue().trim().replaceAll("\\s+", " ").equals(EVERY_SECOND)) {
        unchecked.add(
            "not checked: " + job.getKey() + " (spec '" + job.getValue() + "', not every second)");
        continue;
      }
      checked.add(job.getKey());
      TreeMap<Long, List<JsonNode>> byInstant = deliveries.get(job.getKey());
      if (byInstant == null) {
        continue;
      }
      Map<Long, CronRow> rows = runs.getOrDefault(job.getKey(), Map.of());
      TreeMap<Long, Long> firstDeliveries = new TreeMap<>(); // instant -> its first delivery
      long latestSoFar = Long.MIN_VALUE;
      for (long at = byInstant.firstKey(); at <= last; at += 1000) {
        instants++;
        CronRow row = rows.get(at);
        boolean marked =
            row != null
                && (row.outcome().equals("delivering")
                    || (row.outcome().equals("delivered")
                        && row.detail() != null
                        && row.detail().startsWith(MARKED_UNREPORTED)));
        if (marked) {
          markedUnreported++;
        }
        List<JsonNode> got = byInstant.getOrDefault(at, List.of());
        if (got.isEmpty()) {
          missed++;
          if (marked) {
            missedMarked++;
          }
          if (evidence.size() < MAX_EVIDENCE) {
            evidence.add(
                "missed "
                    + job.getKey()
                    + " at "
                    + Instant.ofEpochMilli(at)
                    + ": no tick witnessed; troupe_cron_run: "
                    + (rows.containsKey(at) ? rows.get(at) : "no row")
                    + "; neighbours delivered by "
                    + deliverers(byInstant.get(at - 1000))
                    + " / "
                    + deliverers(byInstant.get(at + 1000))
                    + faultsAround(faults, at));
          }
          continue;
        }
        long first = Long.MAX_VALUE;
        for (JsonNode e : got) {
          first = Math.min(first, e.get("t").asLong());
        }
        if (first < latestSoFar) {
          outOfOrder++;
          if (orderEvidence.size() < 5) {
            long overtaken = 0;
            long earliest = Long.MAX_VALUE;
            for (Map.Entry<Long, Long> earlier : firstDeliveries.entrySet()) {
              if (earlier.getValue() > first) {
                overtaken++;
                earliest = Math.min(earliest, earlier.getKey());
              }
            }
            orderEvidence.add(
                "out of order "
                    + job.getKey()
                    + " at "
                    + Instant.ofEpochMilli(at)
                    + ": delivered "
                    + (first - at)
                    + " ms after it, before "
                    + overtaken
                    + " earlier instant(s) from "
                    + Instant.ofEpochMilli(earliest)
                    + " (delivered up to "
                    + (latestSoFar - first)
                    + " ms later)");
          }
        }
        firstDeliveries.put(at, first);
        latestSoFar = Math.max(latestSoFar, first);
        long lateness = first - at;
        maxLateness = Math.max(maxLateness, lateness);
        if (lateness > MISFIRE_THRESHOLD_MILLIS) {
          late++;
        }
        if (got.size() > 1) {
          twice++;
          if (evidence.size() < MAX_EVIDENCE) {
            List<String> each = new ArrayList<>();
            for (JsonNode e : got) {
              each.add(
                  e.path("node").asText()
                      + " pid "
                      + e.path("pid").asText()
                      + " token "
                      + e.get("epoch").asLong()
                      + " after "
                      + (e.get("t").asLong() - at)
                      + " ms");
            }
            evidence.add(
                "twice "
                    + job.getKey()
                    + " at "
                    + Instant.ofEpochMilli(at)
                    + ": "
                    + String.join(", ", each)
                    + "; troupe_cron_run: "
                    + (rows.containsKey(at) ? rows.get(at) : "no row")
                    + faultsAround(faults, at));
          }
        }
      }
    }
    if (missed + twice > evidence.size()) {
      evidence.add("... and " + (missed + twice - evidence.size()) + " more");
    }
    evidence.addAll(orderEvidence);
    if (outOfOrder > orderEvidence.size()) {
      evidence.add("... and " + (outOfOrder - orderEvidence.size()) + " more out of order");
    }
    evidence.addAll(unchecked);
    return new CatchUp(
        List.copyOf(checked),
        instants,
        missed,
        missedMarked,
        twice,
        late,
        maxLateness,
        outOfOrder,
        markedUnreported,
        log,
        evidence);
  }

  private static String deliverers(List<JsonNode> ticks) {
    if (ticks == null || ticks.isEmpty()) {
      return "nobody";
    }
    List<String> nodes = new ArrayList<>();
    ticks.forEach(e -> nodes.add(e.path("node").asText() + " (token " + e.get("epoch") + ")"));
    return String.join(" and ", nodes);
  }

  /** The driver's last fault before {@code at} and first one after it, for the evidence. */
  private static String faultsAround(List<JsonNode> faults, long at) {
    JsonNode before = null;
    JsonNode after = null;
    for (JsonNode f : faults) {
      long t = f.get("t").asLong();
      if (t <= at && (before == null || t > before.get("t").asLong())) {
        before = f;
      } else if (t > at && (after == null || t < after.get("t").asLong())) {
        after = f;
      }
    }
    return "; faults around it: "
        + (before == null
            ? "none before"
            : describe(before) + " " + (at - before.get("t").asLong()) + " ms before")
        + ", "
        + (after == null
            ? "none after"
            : describe(after) + " " + (after.get("t").asLong() - at) + " ms after");
  }

  private static String describe(JsonNode fault) {
    return fault.path("fault").asText() + " " + fault.path("target").asText();
  }

  /** The end of the run: the driver's last {@code stop-all}, else the last witness line. */
  static long runEnd(Path runDir, List<JsonNode> events) {
    long end = Long.MIN_VALUE;
    for (JsonNode f : driver(runDir)) {
      if (f.path("fault").asText().equals("stop-all")) {
        end = Math.max(end, f.get("t").asLong());
      }
    }
    if (end != Long.MIN_VALUE) {
      return end;
    }
    for (JsonNode e : events) {
      end = Math.max(end, e.get("t").asLong());
    }
    return end;
  }

  /** The fault driver's lines ({@code driver.jsonl}); empty when it applied none. */
  static List<JsonNode> driver(Path runDir) {
    Path file = runDir.resolve("driver.jsonl");
    List<JsonNode> faults = new ArrayList<>();
    if (!Files.exists(file)) {
      return faults;
    }
    for (String line : read(file).split("\n")) {
      if (!line.isBlank()) {
        try {
          faults.add(JSON.readTree(line));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return faults;
  }

  /**
   * What the schedulers' log lines in the node logs of {@code runDir} say: {@link SchedulerLog}.
   */
  static SchedulerLog schedulerLog(Path runDir) {
    int adopted = 0;
    int again = 0;
    boolean seen = false;
    try (Stream<Path> files = Files.list(runDir)) {
      for (Path log : files.filter(p -> p.toString().endsWith(".log")).toList()) {
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          Matcher m = ADOPTED.matcher(line);
          if (m.find()) {
            seen = true;
            adopted += Integer.parseInt(m.group(1));
          } else if (NO_REPORT.matcher(line).find()) {
            again++;
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return seen ? new SchedulerLog(adopted, again) : SchedulerLog.UNKNOWN;
  }

  /**
   * Read-modify-write updates lost: per key, how far the counter its single writer kept is from the
   * key's rows (each row was inserted in the transaction that stored the counter plus one). A
   * second writer with a stale count overwrites the first one's increments.
   */
  static int lostUpdates(Map<String, Long> counters, Map<String, Long> rowsPerKey) {
    long lost = 0;
    for (Map.Entry<String, Long> rows : rowsPerKey.entrySet()) {
      lost += Math.abs(rows.getValue() - counters.getOrDefault(rows.getKey(), 0L));
    }
    return (int) lost;
  }

  /**
   * Fleet worker activations acting at once. An activation (key, process, its number there)
   * believes it is the key's single writer from its start (when it read the key's state) until its
   * last write began; another activation of the key writing meanwhile is a second writer.
   */
  static Overlap workerBeliefOverlap(List<JsonNode> events) {
    return startToLastAct(
        events,
        "worker_start",
        "worker_write",
        e -> e.get("name").asText() + "|" + e.path("pid") + "|" + e.get("epoch").asLong(),
        e -> e.get("name").asText());
  }

  /**
   * Beliefs that run from a {@code startKind} event to the beginning ({@code t0}) of the last
   * {@code actKind} event of the same believer ({@code believer} of the event), named by {@code
   * name}; a believer whose start was not witnessed is not judged.
   */
  private static Overlap startToLastAct(
      List<JsonNode> events,
      String startKind,
      String actKind,
      Function<JsonNode, String> believer,
      Function<JsonNode, String> name) {
    Map<String, long[]> spans = new HashMap<>(); // believer -> {start, last act began}
    Map<String, String> names = new HashMap<>();
    for (JsonNode e : events) {
      String kind = e.path("kind").asText();
      if (!kind.equals(startKind) && !kind.equals(actKind)) {
        continue;
      }
      String who = believer.apply(e);
      names.putIfAbsent(who, name.apply(e));
      long[] span = spans.computeIfAbsent(who, k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE});
      long t = e.get("t").asLong();
      if (kind.equals(startKind)) {
        span[0] = Math.min(span[0], t);
        span[1] = Math.max(span[1], t);
      } else {
        span[1] = Math.max(span[1], e.path("t0").asLong(t));
      }
    }
    List<Belief> beliefs = new ArrayList<>();
    spans.forEach(
        (who, span) -> {
          if (span[0] != Long.MAX_VALUE) {
            beliefs.add(new Belief(names.get(who), who, span[0], span[1]));
          }
        });
    return overlaps(beliefs);
  }

  /**
   * Overlapping beliefs: how many pairs of instances (or holders) of one name believed at the same
   * wall-clock moment that they were the one, the longest such overlap and which pair it was.
   */
  public record Overlap(int pairs, long maxMillis, String worst) {
    static final Overlap NONE = new Overlap(0, 0, "-");
  }

  /** One instance's belief: from {@code from} to {@code to} (wall-clock millis), named. */
  record Belief(String name, String who, long from, long to) {}

  /**
   * Daemon instances' beliefs. An instance (name, epoch, process) believes it runs from its start
   * until its node stops trusting its lease: the latest {@code trusted_until} its beats carried (it
   * beats only while its node holds and trusts the lease), cut short by its stop. A paused, cut-off
   * or killed instance therefore believes until the trust it last saw runs out, not until its
   * process happens to log again. Instances without any beat that carries a trust (it never got to
   * act) believe from start to stop. Any overlap of two beliefs of one name is a violation: the
   * leases exist so that a successor starts only after the old trust has run out.
   */
  static Overlap daemonBeliefOverlap(List<JsonNode> events) {
    Map<String, long[]> lives = new HashMap<>(); // name|epoch|pid -> {start, stop, trustedUntil}
    for (JsonNode e : events) {
      String kind = e.path("kind").asText();
      if (!kind.equals("daemon_start") && !kind.equals("daemon_stop") && !kind.equals("beat")) {
        continue;
      }
      String id = e.get("name").asText() + "|" + e.get("epoch").asLong() + "|" + e.path("pid");
      long t = e.get("t").asLong();
      long[] life =
          lives.computeIfAbsent(
              id, k -> new long[] {Long.MAX_VALUE, Long.MAX_VALUE, Long.MIN_VALUE});
      switch (kind) {
        case "daemon_start" -> life[0] = Math.min(life[0], t);
        case "daemon_stop" -> life[1] = life[1] == Long.MAX_VALUE ? t : Math.max(life[1], t);
        default -> {
          if (e.has("trusted_until")) {
            life[2] = Math.max(life[2], e.get("trusted_until").asLong());
          }
        }
      }
    }
    List<Belief> beliefs = new ArrayList<>();
    lives.forEach(
        (id, life) -> {
          if (life[0] == Long.MAX_VALUE) {
            return; // its start was not witnessed (cut off): nothing to judge
          }
          long to = life[2] == Long.MIN_VALUE ? life[1] : Math.min(life[1], life[2]);
          if (to == Long.MAX_VALUE) {
            return; // never acted and never stopped: a start the process died right after
          }
          beliefs.add(new Belief(id.substring(0, id.indexOf('|')), id, life[0], to));
        });
    return overlaps(beliefs);
  }

  /**
   * Lock holders' beliefs. A holder (token) believes it holds the lock from its acquisition until
   * the last moment it checked {@code isHeld()} and found it true (the {@code t0} of its last
   * write, which it makes only then). Any overlap of two tokens' beliefs is a violation.
   */
  static Overlap lockBeliefOverlap(List<JsonNode> events) {
    return startToLastAct(
        events, "lock_acquire", "lock_write", e -> "token " + e.get("epoch").asLong(), e -> "lock");
  }

  /**
   * Cron schedulers' beliefs. A scheduler (token, process) believes it is the cluster's scheduler
   * from its take-over until the last time it claimed instants (it claims only after checking that
   * its node still trusts the scheduler lease, and says so on the event stream just then). Two
   * schedulers' beliefs at one moment are a violation, whether or not the database refused the
   * stale one's claims.
   */
  static Overlap schedulerBeliefOverlap(List<JsonNode> events) {
    return startToLastAct(
        events,
        "scheduler_start",
        "scheduler_claim",
        e -> "token " + e.get("epoch").asLong() + " in pid " + e.path("pid"),
        e -> "cron-scheduler");
  }

  /** Pairs of beliefs of one name that overlap (share more than an instant). */
  private static Overlap overlaps(List<Belief> beliefs) {
    Map<String, List<Belief>> byName = new HashMap<>();
    for (Belief b : beliefs) {
      byName.computeIfAbsent(b.name(), n -> new ArrayList<>()).add(b);
    }
    int pairs = 0;
    long worst = 0;
    String which = "-";
    for (List<Belief> list : byName.values()) {
      list.sort(Comparator.comparingLong(Belief::from));
      for (int i = 0; i < list.size(); i++) {
        for (int j = i + 1; j < list.size() && list.get(j).from() < list.get(i).to(); j++) {
          long overlap = Math.min(list.get(i).to(), list.get(j).to()) - list.get(j).from();
          if (overlap > 0) {
            pairs++;
            if (overlap > worst) {
              worst = overlap;
              which = list.get(i).who() + " and " + list.get(j).who();
            }
          }
        }
      }
    }
    return pairs == 0 ? Overlap.NONE : new Overlap(pairs, worst, which);
  }

  /**
   * The (daemon, epoch) pairs that instances in more than one process started: every placement
   * raises the epoch, so one epoch in two processes means the fencing itself failed, whatever the
   * database accepted. (A restart after a crash within one process keeps its epoch.)
   */
  static int equalEpochDuplicates(List<JsonNode> events) {
    Map<String, Set<String>> processes = new HashMap<>();
    for (JsonNode e : events) {
      if (e.path("kind").asText().equals("daemon_start")) {
        processes
            .computeIfAbsent(
                e.get("name").asText() + "|" + e.get("epoch").asLong(), k -> new HashSet<>())
            .add(e.path("pid").asText());
      }
    }
    return (int) processes.values().stream().filter(p -> p.size() > 1).count();
  }

  private record Fenced(int accepted, int stale, long maxGap) {}

  /**
   * Per name: an accepted write is stale when a write with a larger epoch had already been accepted
   * (returned) before it was even sent: the fence should have refused it. A write sent before the
   * newer one returned may legitimately be accepted first (the database orders them), and its own
   * return can be seen much later (its process paused right after the commit), so "later in the
   * log" alone is not a violation. The gap is the longest time without an accepted write.
   */
  private static Fenced fenced(List<JsonNode> writes) {
    Map<String, List<JsonNode>> byName = new HashMap<>();
    for (JsonNode e : writes) {
      if (e.path("ok").asBoolean(false)) {
        byName.computeIfAbsent(e.get("name").asText(), n -> new ArrayList<>()).add(e);
      }
    }
    int accepted = 0;
    int stale = 0;
    long gap = 0;
    for (List<JsonNode> list : byName.values()) {
      list.sort(Comparator.comparingLong(e -> e.get("t").asLong()));
      long[] returned = new long[list.size()];
      long[] highestSoFar = new long[list.size()];
      long highest = Long.MIN_VALUE;
      List<Long> times = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        returned[i] = list.get(i).get("t").asLong();
        highest = Math.max(highest, list.get(i).get("epoch").asLong());
        highestSoFar[i] = highest;
        times.add(returned[i]);
      }
      for (JsonNode e : list) {
        long sent = e.path("t0").asLong(e.get("t").asLong());
        // the last write that returned strictly before this one was sent
        int before = lastBefore(returned, sent);
        if (before >= 0 && highestSoFar[before] > e.get("epoch").asLong()) {
          stale++;
        }
        accepted++;
      }
      gap = Math.max(gap, maxGap(times));
    }
    return new Fenced(accepted, stale, gap);
  }

  /** The index of the last element of sorted {@code values} below {@code limit}, or -1. */
  private static int lastBefore(long[] values, long limit) {
    int low = 0;
    int high = values.length - 1;
    int found = -1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      if (values[mid] < limit) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  /**
   * The longest time two instances of one daemon were both alive by their own witness (start to
   * stop, or to their last write when the process died): an instance whose node was paused or cut
   * off still counts as alive, even though the fence refused its writes.
   */
  private static long lifetimeOverlap(List<JsonNode> events) {
    Map<String, long[]> lives = new HashMap<>(); // name|epoch|pid -> {start, end}
    for (JsonNode e : events) {
      String kind = e.path("kind").asText();
      if (!kind.equals("daemon_start") && !kind.equals("daemon_stop") && !kind.equals("beat")) {
        continue;
      }
      String id = e.get("name").asText() + "|" + e.get("epoch").asLong() + "|" + e.get("pid");
      long t = e.get("t").asLong();
      long[] life = lives.computeIfAbsent(id, k -> new long[] {Long.MAX_VALUE, Long.MIN_VALUE});
      if (kind.equals("daemon_start")) {
        life[0] = Math.min(life[0], t);
      }
      life[1] = Math.max(life[1], t);
    }
    Map<String, List<long[]>> byName = new HashMap<>();
    lives.forEach(
        (id, life) -> {
          if (life[0] != Long.MAX_VALUE) {
            byName
                .computeIfAbsent(id.substring(0, id.indexOf('|')), n -> new ArrayList<>())
                .add(life);
          }
        });
    long worst = 0;
    for (List<long[]> list : byName.values()) {
      for (int i = 0; i < list.size(); i++) {
        for (int j = i + 1; j < list.size(); j++) {
          long overlap =
              Math.min(list.get(i)[1], list.get(j)[1]) - Math.max(list.get(i)[0], list.get(j)[0]);
          worst = Math.max(worst, overlap);
        }
      }
    }
    return worst;
  }

  private static long maxGap(List<Long> times) {
    List<Long> sorted = new ArrayList<>(times);
    sorted.sort(null);
    long gap = 0;
    for (int i = 1; i < sorted.size(); i++) {
      gap = Math.max(gap, sorted.get(i) - sorted.get(i - 1));
    }
    return gap;
  }

  private static List<JsonNode> of(List<JsonNode> events, String kind) {
    return events.stream().filter(e -> e.path("kind").asText().equals(kind)).toList();
  }

  /** Every {@code TROUPE-W} line of every node log in {@code runDir}. */
  static List<JsonNode> witness(Path runDir) {
    List<JsonNode> events = new ArrayList<>();
    try (Stream<Path> files = Files.list(runDir)) {
      for (Path log : files.filter(p -> p.toString().endsWith(".log")).toList()) {
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          if (line.startsWith("TROUPE-W ")) {
            try {
              events.add(JSON.readTree(line.substring("TROUPE-W ".length())));
            } catch (IOException e) {
              // a line cut off by SIGKILL: not a witnessed event
            }
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return events;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
