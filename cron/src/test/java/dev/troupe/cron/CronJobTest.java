package dev.troupe.cron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.Names;
import dev.troupe.core.WorkerGroup;
import org.junit.jupiter.api.Test;

/**
 * A job's name and its target's name follow the rule of {@link Names}; the builder refuses others.
 */
final class CronJobTest {

  @Test
  void aValidNameAndTargetAreKept() {
    String longest = "\u00e9".repeat(Names.MAX_UTF8_BYTES / 2);
    CronJob job = CronJob.builder(longest).spec("0 3 * * *").target("room-sweeper").build();
    assertEquals(longest, job.name());
    assertEquals("room-sweeper", job.target().orElseThrow());
    assertEquals(
        "close-idle-rooms",
        CronJob.builder("close-idle-rooms")
            .spec("0 3 * * *")
            .targetGroup(WorkerGroup.of("chat-room-sweepers", CronTick.class))
            .build()
            .name());
  }

  @Test
  void anInvalidNameIsRefusedNamingTheValueAndTheRule() {
    assertRefused("cron job name", "[nightly report] (U+0020 SPACE at index 7)", "nightly report");
    assertRefused(
        "cron job name", "[reports/daily] ('/' U+002F SOLIDUS at index 7)", "reports/daily");
    assertRefused("cron job name", "[] (empty)", "");
    assertRefused("cron job name", "null", null);
    assertRefused("cron job name", "(257 bytes, 257 chars)", "j".repeat(257));
    // Until the rule, the limit was 200 characters: 201 to 256 ASCII characters are now fine.
    assertEquals(
        256,
        CronJob.builder("j".repeat(256)).spec("* * * * *").target("t").build().name().length());
  }

  @Test
  void anInvalidTargetIsRefusedNamingTheValueAndTheRule() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CronJob.builder("x").target("room <1>"));
    assertTrue(
        e.getMessage()
            .startsWith("cron job target (an address-book name) must be " + Names.RULE + "; got "),
        e.getMessage());
    assertTrue(e.getMessage().contains("[room <1>] (U+0020 SPACE at index 4)"), e.getMessage());
  }

  private static void assertRefused(String what, String detail, String name) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CronJob.builder(name));
    assertTrue(
        e.getMessage().startsWith(what + " must be " + Names.RULE + "; got "), e.getMessage());
    assertTrue(e.getMessage().contains(detail), e.getMessage());
  }
}
