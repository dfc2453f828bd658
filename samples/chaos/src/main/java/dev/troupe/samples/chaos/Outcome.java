package dev.troupe.samples.chaos;

import java.util.ArrayList;
import java.util.List;

/** What one scenario measured and what the checker found. */
record Outcome(
    String scenario, String fault, List<Figure> figures, Checker.Result check, String dir) {

  /** One measured figure against its goal; {@code met} is null for a figure without a goal. */
  record Figure(String metric, String value, String goal, Boolean met) {}

  static Figure seconds(String metric, long millis, double goalSeconds) {
    return new Figure(
        metric,
        String.format("%.1f s", millis / 1000.0),
        goalSeconds > 0 ? String.format("≤ %.0f s", goalSeconds) : "",
        goalSeconds > 0 ? millis <= goalSeconds * 1000 : null);
  }

  static Figure info(String metric, String value) {
    return new Figure(metric, value, "", null);
  }

  /** Every figure, the checker's invariants included (each with goal 0). */
  List<Figure> table() {
    List<Figure> all = new ArrayList<>(figures);
    if (check == null) {
      return all; // skipped
    }
    all.add(zero("acknowledged writes lost", check.lostAcks(), check.ackedWrites() + " acked"));
    all.add(
        zero("cron instants delivered twice", check.duplicateTicks(), check.ticks() + " ticks"));
    all.add(
        zero(
            "cron instants neither delivered nor recorded",
            check.unrecordedMisses(),
            check.recordedMisses()
                + " recorded as missed/skipped, "
                + check.deliveredUnwitnessed()
                + " delivered to a dying node"));
    all.add(
        info(
            "cron instants claimed but never delivered (a miss: the claiming scheduler died;"
                + " known gap until issue 19's catch-up)",
            Integer.toString(check.claimedUndelivered())));
    Checker.CatchUp catchUp = check.catchUp();
    if (!catchUp.jobs().isEmpty()) {
      all.add(
          zero(
              "CATCH_UP instants missed (no delivery witnessed, whatever the database says)",
              catchUp.missed(),
              catchUp.instants()
                  + " instants of "
                  + catchUp.jobs().size()
                  + " job(s) checked; "
                  + catchUp.missedMarked()
                  + " of the missed marked 'delivering' by a node that died before the tick"));
      all.add(
          zero(
              "CATCH_UP instants fired twice",
              catchUp.twice(),
              catchUp.instants() + " instants checked"));
      all.add(
          info(
              "CATCH_UP instants delivered late (> 1 s after their instant: caught up)",
              Integer.toString(catchUp.late())));
      all.add(
          info(
              "CATCH_UP longest lateness",
              String.format("%.1f s", catchUp.maxLatenessMillis() / 1000.0)));
      all.add(
          info(
              "CATCH_UP instants delivered before an earlier instant of their job (out of order)",
              Integer.toString(catchUp.outOfOrder())));
      all.add(
          info(
              "CATCH_UP instants the database closed as delivered after a failover (marked by"
                  + " their node, report lost with the scheduler)",
              Integer.toString(catchUp.markedUnreported())));
      all.add(info("CATCH_UP claims handed out again (scheduler logs)", catchUp.log().toString()));
    }
    all.add(
        zero(
            "daemon writes accepted from a replaced instance",
            check.staleDaemonWrites(),
            check.daemonBeats() + " accepted"));
    all.add(
        zero(
            "lock writes accepted from a former holder",
            check.staleLockWrites(),
            check.lockWrites() + " accepted, " + check.lockHolders() + " holders"));
    all.add(
        zero(
            "daemon epochs started by two instances",
            check.equalEpochDuplicates(),
            "each placement has an epoch of its own"));
    all.add(
        zero(
            "pairs of daemon instances believing at once",
            check.daemonBelief().pairs(),
            "longest " + check.daemonBelief().maxMillis() + " ms"));
    all.add(
        zero(
            "pairs of lock holders believing at once",
            check.lockBelief().pairs(),
            "longest " + check.lockBelief().maxMillis() + " ms"));
    all.add(
        zero(
            "pairs of cron schedulers believing at once",
            check.schedulerBelief().pairs(),
            "longest " + check.schedulerBelief().maxMillis() + " ms"));
    all.add(
        zero(
            "pairs of fleet worker activations of one key acting at once",
            check.workerBelief().pairs(),
            "longest " + check.workerBelief().maxMillis() + " ms"));
    all.add(
        zero(
            "read-modify-write updates lost",
            check.lostUpdates(),
            "per key, counter against rows"));
    all.add(
        info(
            "longest time two daemon processes were alive at once (paused, acting on neither)",
            String.format("%.1f s", check.maxLifetimeOverlapMillis() / 1000.0)));
    all.add(
        info("longest daemon gap", String.format("%.1f s", check.maxDaemonGapMillis() / 1000.0)));
    all.add(info("longest cron gap", String.format("%.1f s", check.maxCronGapMillis() / 1000.0)));
    all.add(
        info(
            "longest time without an acknowledged write",
            String.format("%.1f s", check.maxAckGapMillis() / 1000.0)));
    all.add(info("longest lock gap", String.format("%.1f s", check.maxLockGapMillis() / 1000.0)));
    all.add(
        info("latest cron tick", String.format("%.1f s", check.maxTickLatenessMillis() / 1000.0)));
    return all;
  }

  private static Figure zero(String metric, int value, String context) {
    return new Figure(metric, value + " (" + context + ")", "0", value == 0);
  }

  /** Whether the scenario could not run here (no PostgreSQL, not root). */
  boolean skipped() {
    return check == null && figures.isEmpty();
  }

  /** A scenario that could not finish: a failed outcome naming why. */
  static Outcome broken(String scenario, Throwable error) {
    return new Outcome(
        scenario,
        "did not finish",
        List.of(new Figure("scenario finished", String.valueOf(error), "yes", false)),
        null,
        "-");
  }

  /** Whether the scenario ran and every guarantee held and every goal was met; never if skipped. */
  boolean passed() {
    return !skipped()
        && (check == null || check.violations().isEmpty())
        && figures.stream().noneMatch(f -> Boolean.FALSE.equals(f.met()));
  }

  /** The scenario's verdict in one word: PASSED, FAILED or SKIPPED (never PASSED when skipped). */
  String verdict() {
    return skipped() ? "SKIPPED" : passed() ? "PASSED" : "FAILED";
  }
}
