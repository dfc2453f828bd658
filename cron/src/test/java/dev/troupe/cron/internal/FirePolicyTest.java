package dev.troupe.cron.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.OverlapPolicy;
import dev.troupe.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scheduler's misfire and overlap rules as pure functions: a walk over a job's due instants at
 * a time the test sets on a manual clock.
 */
final class FirePolicyTest {
  private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
  private static final CronSpec EVERY_MINUTE = CronSpec.parse("* * * * *", ZoneId.of("UTC"));
  private static final CronSpec EVERY_SECOND = CronSpec.parse("* * * * * *", ZoneId.of("UTC"));
  private static final FirePolicy.Limits LIMITS = new FirePolicy.Limits(1_000, 100, 1_000);

  private final ManualClock clock = new ManualClock(T0);

  private FirePolicy.Walk walk(CronSpec spec, Instant first, MisfirePolicy policy, long window) {
    return FirePolicy.walk(spec, first, policy, window, LIMITS, clock.millis());
  }

  private static List<Instant> fired(FirePolicy.Walk walk) {
    return walk.steps().stream()
        .filter(s -> s instanceof FirePolicy.Fire)
        .map(FirePolicy.Step::at)
        .toList();
  }

  private static List<Instant> missed(FirePolicy.Walk walk) {
    return walk.steps().stream()
        .filter(s -> s instanceof FirePolicy.Miss)
        .map(FirePolicy.Step::at)
        .toList();
  }

  private static Instant minute(int m) {
    return T0.plus(Duration.ofMinutes(m));
  }

  @Test
  void onTimeInstantsFireUnderEveryPolicyAndTheWalkStopsAtTheFirstNotDue() {
    clock.set(minute(1).minusMillis(100)); // claim-ahead before 10:01
    for (MisfirePolicy policy : MisfirePolicy.values()) {
      FirePolicy.Walk walk = walk(EVERY_MINUTE, minute(1), policy, 60_000);
      assertEquals(List.of(minute(1)), fired(walk), policy.name());
      assertEquals(minute(2), walk.next(), policy.name());
    }
    clock.set(minute(1).minusMillis(101));
    FirePolicy.Walk early = walk(EVERY_MINUTE, minute(1), MisfirePolicy.SKIP, 60_000);
    assertTrue(early.steps().isEmpty(), "not due yet");
    assertEquals(minute(1), early.next());
    clock.set(minute(1).plusMillis(1_000)); // exactly the threshold late: still on time
    assertEquals(
        List.of(minute(1)), fired(walk(EVERY_MINUTE, minute(1), MisfirePolicy.SKIP, 60_000)));
  }

  @Test
  void afterAGapSkipMissesAllFireOnceTheLatestAndCatchUpEveryInstantInItsWindowInOrder() {
    clock.set(minute(3).plusSeconds(20)); // the scheduler was away since 10:00
    FirePolicy.Walk skip = walk(EVERY_MINUTE, minute(1), MisfirePolicy.SKIP, 130_000);
    assertEquals(List.of(), fired(skip));
    assertEquals(List.of(minute(1), minute(2), minute(3)), missed(skip));
    assertEquals(FirePolicy.LATE_SKIP, ((FirePolicy.Miss) skip.steps().get(0)).cause());

    FirePolicy.Walk once = walk(EVERY_MINUTE, minute(1), MisfirePolicy.FIRE_ONCE, 130_000);
    assertEquals(List.of(minute(3)), fired(once));
    assertEquals(List.of(minute(1), minute(2)), missed(once));
    assertTrue(
        ((FirePolicy.Miss) once.steps().get(1)).reason().contains("a later instant fires instead"),
        once.toString());
    assertEquals(FirePolicy.FIRE_ONCE_COLLAPSED, ((FirePolicy.Miss) once.steps().get(1)).cause());

    FirePolicy.Walk catchUp = walk(EVERY_MINUTE, minute(1), MisfirePolicy.CATCH_UP, 130_000);
    assertEquals(List.of(minute(2), minute(3)), fired(catchUp), "in order, within 130 s");
    assertEquals(List.of(minute(1)), missed(catchUp), "140 s late: beyond the window");
    assertTrue(
        ((FirePolicy.Miss) catchUp.steps().get(0)).reason().contains("beyond the catch-up window"));
    assertEquals(FirePolicy.BEYOND_CATCH_UP, ((FirePolicy.Miss) catchUp.steps().get(0)).cause());
    assertEquals(minute(4), catchUp.next());
  }

  @Test
  void fireOnceBeyondItsWindowIsMissedLikeSkip() {
    clock.set(minute(3).plusSeconds(20));
    FirePolicy.Walk once = walk(EVERY_MINUTE, minute(3), MisfirePolicy.FIRE_ONCE, 10_000);
    assertEquals(List.of(), fired(once));
    assertEquals(List.of(minute(3)), missed(once));
    assertEquals(FirePolicy.BEYOND_CATCH_UP, ((FirePolicy.Miss) once.steps().get(0)).cause());
  }

  @Test
  void aLongGapJumpsAfterTheMissedRowLimitButNeverOverInstantsThePolicyWouldFire() {
    // Every second for a day; the catch-up window is a minute.
    clock.set(T0.plus(Duration.ofDays(1)));
    long now = clock.millis();
    FirePolicy.Walk catchUp = walk(EVERY_SECOND, T0.plusSeconds(1), MisfirePolicy.CATCH_UP, 60_000);
    List<Instant> fired = fired(catchUp);
    assertEquals(61, fired.size(), "every second of the last minute, now included");
    assertEquals(Instant.ofEpochMilli(now - 60_000), fired.get(0));
    assertEquals(Instant.ofEpochMilli(now), fired.get(60));
    assertEquals(LIMITS.maxMissedRecords(), missed(catchUp).size(), "rows listed up to the limit");
    FirePolicy.Miss jump = (FirePolicy.Miss) catchUp.steps().get(LIMITS.maxMissedRecords() - 1);
    assertTrue(jump.reason().contains("was missed too (not listed)"), jump.reason());

    FirePolicy.Walk once = walk(EVERY_SECOND, T0.plusSeconds(1), MisfirePolicy.FIRE_ONCE, 60_000);
    assertEquals(
        List.of(Instant.ofEpochMilli(now - 1_000), Instant.ofEpochMilli(now)),
        fired(once),
        "the instants at most the threshold late are on time; the older ones are superseded");

    FirePolicy.Walk skip = walk(EVERY_SECOND, T0.plusSeconds(1), MisfirePolicy.SKIP, 60_000);
    assertEquals(
        List.of(Instant.ofEpochMilli(now - 1_000), Instant.ofEpochMilli(now)),
        fired(skip),
        "on time: at most the threshold (1 s) late");
    assertTrue(missed(skip).size() <= LIMITS.maxMissedRecords() + 1, "bounded rows");
  }

  @Test
  void theWalkEndsAtTheNextInstantThatIsNotDueHoweverFarAway() {
    CronSpec yearly = CronSpec.parse("0 10 2 3 *", ZoneId.of("UTC")); // 2 March, 10:00
    clock.set(T0.plusSeconds(5));
    FirePolicy.Walk walk = walk(yearly, T0, MisfirePolicy.CATCH_UP, 60_000);
    assertEquals(List.of(T0), fired(walk));
    assertEquals(Instant.parse("2027-03-02T10:00:00Z"), walk.next());
  }

  @Test
  void retryWindowIsTheCatchUpWindowExceptUnderSkip() {
    assertEquals(1_000, FirePolicy.retryWindowMillis(MisfirePolicy.SKIP, 60_000, LIMITS));
    assertEquals(60_000, FirePolicy.retryWindowMillis(MisfirePolicy.FIRE_ONCE, 60_000, LIMITS));
    assertEquals(60_000, FirePolicy.retryWindowMillis(MisfirePolicy.CATCH_UP, 60_000, LIMITS));
  }

  @Test
  void overlapRules() {
    assertInstanceOf(FirePolicy.Run.class, FirePolicy.overlap(OverlapPolicy.SKIP, false, 3, false));
    assertInstanceOf(FirePolicy.Run.class, FirePolicy.overlap(OverlapPolicy.SKIP, true, 0, false));
    assertInstanceOf(FirePolicy.Run.class, FirePolicy.overlap(OverlapPolicy.ALLOW, true, 2, true));
    FirePolicy.Overlap skip = FirePolicy.overlap(OverlapPolicy.SKIP, true, 1, false);
    assertTrue(((FirePolicy.Skip) skip).reason().contains("overlap SKIP"));
    assertEquals(FirePolicy.OVERLAP_SKIP, ((FirePolicy.Skip) skip).cause());
    assertInstanceOf(
        FirePolicy.Buffer.class, FirePolicy.overlap(OverlapPolicy.BUFFER_ONE, true, 1, false));
    FirePolicy.Overlap full = FirePolicy.overlap(OverlapPolicy.BUFFER_ONE, true, 1, true);
    assertTrue(((FirePolicy.Skip) full).reason().contains("BUFFER_ONE"));
    assertEquals(FirePolicy.OVERLAP_BUFFER_FULL, ((FirePolicy.Skip) full).cause());
  }
}
