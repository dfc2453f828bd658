package dev.troupe.cron.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure schedule math: explicit instants, no clocks, no actors. */
final class CronSpecTest {
  private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
  private static final ZoneId UTC = ZoneId.of("UTC");

  private static Instant next(String spec, ZoneId zone, String after) {
    return CronSpec.parse(spec, zone).nextAfter(Instant.parse(after)).orElseThrow();
  }

  private static List<Instant> fires(String spec, ZoneId zone, String from, String to) {
    CronSpec parsed = CronSpec.parse(spec, zone);
    List<Instant> fires = new ArrayList<>();
    Instant at = Instant.parse(from);
    Instant end = Instant.parse(to);
    while (true) {
      at = parsed.nextAfter(at).orElseThrow();
      if (at.isAfter(end)) {
        return fires;
      }
      fires.add(at);
    }
  }

  @Test
  void aFiveFieldSpecFiresAtTheNextMatchingMinute() {
    assertEquals(
        Instant.parse("2026-05-04T10:05:00Z"), next("*/5 * * * *", UTC, "2026-05-04T10:01:30Z"));
    assertEquals(
        Instant.parse("2026-05-04T10:10:00Z"), next("*/5 * * * *", UTC, "2026-05-04T10:05:00Z"));
    assertEquals(
        Instant.parse("2026-05-05T03:00:00Z"), next("0 3 * * *", UTC, "2026-05-04T03:00:00Z"));
  }

  @Test
  void aSixFieldSpecHasSeconds() {
    assertEquals(
        Instant.parse("2026-05-04T10:00:10Z"), next("*/10 * * * * *", UTC, "2026-05-04T10:00:00Z"));
    assertEquals(
        Instant.parse("2026-05-04T10:00:01Z"),
        next("* * * * * *", UTC, "2026-05-04T10:00:00.500Z"));
  }

  @Test
  void macrosExpand() {
    assertEquals(
        Instant.parse("2026-05-04T11:00:00Z"), next("@hourly", UTC, "2026-05-04T10:20:00Z"));
    assertEquals(
        Instant.parse("2026-05-05T00:00:00Z"), next("@daily", UTC, "2026-05-04T10:20:00Z"));
    assertEquals(
        Instant.parse("2027-01-01T00:00:00Z"), next("@yearly", UTC, "2026-05-04T10:20:00Z"));
  }

  @Test
  void theZoneDecidesTheWallClock() {
    // 09:00 in New York in summer is 13:00 UTC.
    assertEquals(
        Instant.parse("2026-07-01T13:00:00Z"),
        next("0 9 * * *", ZoneId.of("America/New_York"), "2026-07-01T12:00:00Z"));
  }

  @Test
  void aFixedTimeSkippedBySpringForwardFiresOnceAtTheEndOfTheGap() {
    // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 does not exist.
    List<Instant> fires =
        fires("30 2 * * *", BERLIN, "2026-03-28T00:00:00Z", "2026-03-30T12:00:00Z");
    assertEquals(
        List.of(
            Instant.parse("2026-03-28T01:30:00Z"), // 02:30 CET
            Instant.parse("2026-03-29T01:00:00Z"), // the end of the gap, once
            Instant.parse("2026-03-30T00:30:00Z")), // 02:30 CEST
        fires);
  }

  @Test
  void aFixedTimeRepeatedByFallBackFiresOnceAtItsFirstOccurrence() {
    // Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:30 happens twice.
    List<Instant> fires =
        fires("30 2 * * *", BERLIN, "2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z");
    assertEquals(
        List.of(
            Instant.parse("2026-10-25T00:30:00Z"), // 02:30 CEST, the first occurrence
            Instant.parse("2026-10-26T01:30:00Z")), // 02:30 CET the next day
        fires);
  }

  @Test
  void anIntervalJobFollowsRealTimeAcrossBothChanges() {
    // Spring forward: every 15 minutes of real time, no fires for the missing local hour.
    assertEquals(
        List.of(
            Instant.parse("2026-03-29T00:45:00Z"), // 01:45 CET
            Instant.parse("2026-03-29T01:00:00Z"), // 03:00 CEST
            Instant.parse("2026-03-29T01:15:00Z")),
        fires("*/15 * * * *", BERLIN, "2026-03-29T00:40:00Z", "2026-03-29T01:20:00Z"));
    // Fall back: the repeated local hour fires twice, still every 15 minutes of real time.
    List<Instant> fallBack =
        fires("*/15 * * * *", BERLIN, "2026-10-24T23:50:00Z", "2026-10-25T01:20:00Z");
    List<Instant> expected = new ArrayList<>();
    for (Instant t = Instant.parse("2026-10-25T00:00:00Z");
        !t.isAfter(Instant.parse("2026-10-25T01:15:00Z"));
        t = t.plusSeconds(900)) {
      expected.add(t);
    }
    assertEquals(expected, fallBack);
  }

  @Test
  void leapDaysFireOnlyInLeapYears() {
    assertEquals(
        Instant.parse("2028-02-29T00:00:00Z"), next("0 0 29 2 *", UTC, "2026-03-01T00:00:00Z"));
  }

  @Test
  void aSpecThatNeverFiresIsRefused() {
    IllegalArgumentException never =
        assertThrows(IllegalArgumentException.class, () -> CronSpec.parse("0 0 30 2 *", UTC));
    assertTrue(never.getMessage().contains("never fires"), never.getMessage());
  }

  @Test
  void badSpecsAreRefusedNamingTheField() {
    assertMessage("", "empty");
    assertMessage("* * *", "3 field(s)");
    assertMessage("* * * * * * *", "7 field(s)");
    assertMessage("61 * * * *", "field minute [61]");
    assertMessage("0 25 * * *", "field hour [25]");
    assertMessage("*/0 * * * *", "field minute [*/0]");
    assertMessage("@reboot", "unknown macro");
    assertMessage("\u0661 * * * *", "ASCII");
    assertMessage("*".repeat(10_000), "at most 200");
    assertFalse(CronSpec.parse("0 3 * * *", UTC).expression().isEmpty());
  }

  private static void assertMessage(String spec, String expected) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CronSpec.parse(spec, UTC), spec);
    assertTrue(e.getMessage().contains(expected), "[" + spec + "]: " + e.getMessage());
  }
}
