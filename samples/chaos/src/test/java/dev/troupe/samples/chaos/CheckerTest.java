package dev.troupe.samples.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

final class CheckerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode start(String name, long epoch, long pid) {
    return JSON.createObjectNode()
        .put("kind", "daemon_start")
        .put("name", name)
        .put("epoch", epoch)
        .put("pid", pid)
        .put("t", 0);
  }

  @Test
  void oneEpochStartedInTwoProcessesIsADuplicate() {
    assertEquals(
        1,
        Checker.equalEpochDuplicates(
            List.of(
                start("importer", 3, 100), start("importer", 3, 200), start("billing", 3, 100))));
  }

  @Test
  void aRestartInTheSameProcessAndNewEpochsAreNotDuplicates() {
    assertEquals(
        0,
        Checker.equalEpochDuplicates(
            List.of(
                start("importer", 3, 100),
                start("importer", 3, 100), // supervised restart after a crash
                start("importer", 4, 200),
                start("billing", 4, 100))));
  }

  private static JsonNode event(String kind, String name, long epoch, long pid, long t) {
    return JSON.createObjectNode()
        .put("kind", kind)
        .put("name", name)
        .put("epoch", epoch)
        .put("pid", pid)
        .put("t0", t)
        .put("t", t);
  }

  private static JsonNode beat(String name, long epoch, long pid, long t, long trustedUntil) {
    return ((com.fasterxml.jackson.databind.node.ObjectNode) event("beat", name, epoch, pid, t))
        .put("trusted_until", trustedUntil);
  }

  @Test
  void aSuccessorThatStartsWhileTheOldInstanceStillTrustsItsLeaseIsABeliefOverlap() {
    // Instance 1 (pid 100) beats at 1000 trusting its lease until 5500, then its process is killed
    // (no stop). Instance 2 starts at 4000: both believe at once for 1.5 s.
    Checker.Overlap o =
        Checker.daemonBeliefOverlap(
            List.of(
                event("daemon_start", "d-1", 1, 100, 0),
                beat("d-1", 1, 100, 1000, 5500),
                event("daemon_start", "d-1", 2, 200, 4000),
                beat("d-1", 2, 200, 4100, 8600)));
    assertEquals(1, o.pairs());
    assertEquals(1500, o.maxMillis());
  }

  @Test
  void aSuccessorAfterTheOldTrustRanOutOrAfterAStopIsNoOverlapEvenIfTheOldProcessLogsLater() {
    Checker.Overlap o =
        Checker.daemonBeliefOverlap(
            List.of(
                // paused after its beat at 1000 (trust until 5500); resumed at 30000, it does not
                // beat again and is stopped at 30010: its belief ended at 5500.
                event("daemon_start", "d-1", 1, 100, 0),
                beat("d-1", 1, 100, 1000, 5500),
                event("daemon_stop", "d-1", 1, 100, 30010),
                event("daemon_start", "d-1", 2, 200, 6000),
                beat("d-1", 2, 200, 6100, 10600),
                // a graceful move: stopped at 12000 although its trust ran to 15000
                event("daemon_stop", "d-1", 2, 200, 12000),
                event("daemon_start", "d-1", 3, 100, 12050),
                beat("d-1", 3, 100, 12100, 16600),
                // another name at the same time is no overlap
                event("daemon_start", "d-2", 1, 200, 1000),
                beat("d-2", 1, 200, 1100, 5600)));
    assertEquals(0, o.pairs(), o.toString());
  }

  @Test
  void twoLockTokensWithInterleavedHeldChecksAreABeliefOverlap() {
    // token 7 checked isHeld() (and wrote) at 3000 after token 8 had been acquired at 2500
    Checker.Overlap o =
        Checker.lockBeliefOverlap(
            List.of(
                event("lock_acquire", "chaos-lock", 7, 100, 1000),
                event("lock_write", "chaos-lock", 7, 100, 1200),
                event("lock_acquire", "chaos-lock", 8, 200, 2500),
                event("lock_write", "chaos-lock", 7, 100, 3000),
                event("lock_write", "chaos-lock", 8, 200, 3100)));
    assertEquals(1, o.pairs());
    assertEquals(500, o.maxMillis());
    Checker.Overlap none =
        Checker.lockBeliefOverlap(
            List.of(
                event("lock_acquire", "chaos-lock", 7, 100, 1000),
                event("lock_write", "chaos-lock", 7, 100, 1200),
                event("lock_release", "chaos-lock", 7, 100, 2600), // logged after the release
                event("lock_acquire", "chaos-lock", 8, 200, 2500),
                event("lock_write", "chaos-lock", 8, 200, 3100)));
    assertEquals(0, none.pairs(), none.toString());
  }

  @Test
  void twoCronSchedulersClaimingAtOnceAreABeliefOverlapAndAHandOverIsNot() {
    // token 4 (pid 100) still claimed at 9000 although token 5 (pid 200) took over at 8200
    Checker.Overlap o =
        Checker.schedulerBeliefOverlap(
            List.of(
                event("scheduler_start", "cron-scheduler", 4, 100, 1000),
                event("scheduler_claim", "cron-scheduler", 4, 100, 1900),
                event("scheduler_start", "cron-scheduler", 5, 200, 8200),
                event("scheduler_claim", "cron-scheduler", 4, 100, 9000),
                event("scheduler_claim", "cron-scheduler", 5, 200, 9100)));
    assertEquals(1, o.pairs());
    assertEquals(800, o.maxMillis());
    Checker.Overlap none =
        Checker.schedulerBeliefOverlap(
            List.of(
                event("scheduler_start", "cron-scheduler", 4, 100, 1000),
                event("scheduler_claim", "cron-scheduler", 4, 100, 7900),
                event("scheduler_stop", "cron-scheduler", 4, 100, 30000), // a paused node's stop
                event("scheduler_start", "cron-scheduler", 5, 200, 8200),
                event("scheduler_claim", "cron-scheduler", 5, 200, 9100),
                // a restart in the same process takes a new token after the old one's last claim
                event("scheduler_start", "cron-scheduler", 6, 200, 9500),
                event("scheduler_claim", "cron-scheduler", 6, 200, 9900)));
    assertEquals(0, none.pairs(), none.toString());
  }

  @Test
  void twoActivationsOfOneKeyWritingAtOnceAreTwoWritersAndLostUpdatesShow() {
    // Activation 1 of k-3 (pid 100) started at 0 and wrote until 5000; activation 1 in pid 200
    // started at 4000 (its shard moved while the first one was paused, say).
    Checker.Overlap o =
        Checker.workerBeliefOverlap(
            List.of(
                event("worker_start", "k-3", 1, 100, 0),
                event("worker_write", "k-3", 1, 100, 1000),
                event("worker_start", "k-3", 1, 200, 4000),
                event("worker_write", "k-3", 1, 200, 4100),
                event("worker_write", "k-3", 1, 100, 5000),
                // a hand-over: the old activation's last write before the new one starts
                event("worker_start", "k-4", 1, 100, 0),
                event("worker_write", "k-4", 1, 100, 900),
                event("worker_start", "k-4", 2, 200, 1000),
                event("worker_write", "k-4", 2, 200, 1100)));
    assertEquals(1, o.pairs(), o.toString());
    assertEquals(
        100, o.maxMillis(), "the second activation's belief [4000, 4100] inside the first's");
    assertEquals(
        3,
        Checker.lostUpdates(
            java.util.Map.of("k-3", 7L, "k-4", 5L), java.util.Map.of("k-3", 10L, "k-4", 5L)));
    assertEquals(0, Checker.lostUpdates(java.util.Map.of("k-4", 5L), java.util.Map.of("k-4", 5L)));
  }

  private static JsonNode tick(String job, long at, String node, long token, long t) {
    return ((com.fasterxml.jackson.databind.node.ObjectNode) event("tick", job, token, 100, t))
        .put("node", node)
        .put("at", at);
  }

  @Test
  void everyCatchUpSecondMustBeDeliveredExactlyOnceWhateverTheDatabaseSays() {
    // c-0 from 10000: 12000 delivered twice (old and new scheduler), 13000 never witnessed (the
    // database says delivered), 14000 caught up 9 s late, after 15000 went out on time; 16000 is
    // in the tail (the run ended at 20500) and not judged. c-1 (spaces aside, every second too)
    // stopped at 10000.
    List<JsonNode> ticks =
        List.of(
            tick("c-0", 10_000, "node-0", 3, 10_002),
            tick("c-0", 11_000, "node-0", 3, 11_001),
            tick("c-0", 12_000, "node-0", 3, 12_001),
            tick("c-0", 12_000, "node-1", 4, 23_000),
            tick("c-0", 14_000, "node-1", 4, 23_001),
            tick("c-0", 15_000, "node-1", 4, 15_002), // before 14000: out of order
            tick("c-1", 10_000, "node-1", 3, 10_001));
    Checker.CatchUp c =
        Checker.catchUp(
            new java.util.TreeMap<>(
                java.util.Map.of("c-0", "* * * * * *", "c-1", "*  * * * * *", "c-2", "0 * * * *")),
            ticks,
            20_500,
            java.util.Map.of(
                "c-0",
                java.util.Map.of(
                    13_000L,
                    new Checker.CronRow("delivered", 4, "its node marked it delivered; ..."))),
            List.of(
                JSON.createObjectNode().put("t", 12_500).put("fault", "kill").put("target", "n0")),
            new Checker.SchedulerLog(0, 2));
    assertEquals(List.of("c-0", "c-1"), c.jobs());
    assertEquals(6 + 6, c.instants(), "10000..15000 of each job; c-1 misses 11000..15000");
    assertEquals(1 + 5, c.missed());
    assertEquals(1, c.missedMarked(), "13000, which its node marked");
    assertEquals(1, c.twice());
    assertEquals(1, c.late(), "14000; 12000's first delivery and 15000 were on time");
    assertEquals(1, c.outOfOrder(), "15000 before 14000");
    assertEquals(9_001, c.maxLatenessMillis());
    assertEquals(1, c.markedUnreported(), "13000: the database says delivered");
    assertEquals(2, c.log().deliveredAgain());
    assertTrue(c.evidence().get(0).startsWith("twice c-0 at"), c.evidence().toString());
    assertTrue(
        c.evidence().get(1).contains("delivered (token 4")
            && c.evidence().get(1).contains("kill n0 500 ms before, none after"),
        c.evidence().toString());
    assertTrue(
        c.evidence().get(c.evidence().size() - 2).startsWith("out of order c-0"),
        c.evidence().toString());
    assertTrue(c.evidence().get(c.evidence().size() - 1).startsWith("not checked: c-2"));
  }

  @Test
  void aSkippedScenarioIsNeverPassed() {
    Outcome skipped =
        new Outcome("partition-oldest", "2+1 — SKIPPED: not root", List.of(), null, "-");
    assertTrue(skipped.skipped());
    assertFalse(skipped.passed());
    assertEquals("SKIPPED", skipped.verdict());
    Outcome ran =
        new Outcome(
            "kill-oldest", "SIGKILL", List.of(Outcome.seconds("back", 5_000, 25)), null, "-");
    assertEquals("PASSED", ran.verdict());
    Outcome slow =
        new Outcome(
            "kill-oldest", "SIGKILL", List.of(Outcome.seconds("back", 30_000, 25)), null, "-");
    assertEquals("FAILED", slow.verdict());
  }
}
