package dev.troupe.cron.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.troupe.core.Names;
import dev.troupe.cron.CronScope;
import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.OverlapPolicy;
import org.junit.jupiter.api.Test;

/** Reading {@code troupe.cron}, declared jobs included; errors name the key and the job. */
final class CronSettingsTest {

  private static CronSettings read(String hocon) {
    return CronSettings.fromConfig(
        ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()));
  }

  @Test
  void theDefaultsAreValid() {
    CronSettings s = read("");
    assertTrue(s.databaseClock());
    assertTrue(s.jdkTimer());
    assertEquals("troupe.lease", s.leaderLease());
    assertTrue(s.jobs().isEmpty());
  }

  @Test
  void declaredJobsAreReadWithEveryKey() {
    CronSettings s =
        read(
            "troupe.cron.jobs = [ { name = report, spec = \"0 3 * * *\", zone = \"Europe/Berlin\","
                + " target-group = writers, scope = node, misfire = skip, catch-up-window = 1h,"
                + " overlap = buffer-one, await-completion = 30m, jitter = 5s } ]");
    JobDefinition job = s.jobs().get(0);
    assertEquals("report", job.name());
    assertEquals("0 3 * * *", job.spec());
    assertEquals("Europe/Berlin", job.zone());
    assertEquals("writers", job.targetGroup());
    assertEquals(CronScope.NODE, job.scope());
    assertEquals(MisfirePolicy.SKIP, job.misfire());
    assertEquals(3_600_000, job.catchUpMillis());
    assertEquals(OverlapPolicy.BUFFER_ONE, job.overlap());
    assertEquals(1_800_000, job.awaitMillis());
    assertEquals(5_000, job.jitterMillis());
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertMessage("troupe.cron.clock", "troupe.cron.clock = atomic");
    assertMessage("troupe.cron.timer", "troupe.cron.timer = quartz");
    assertMessage("troupe.cron.misfire-threshold", "troupe.cron.misfire-threshold = 0s");
    assertMessage(
        "troupe.cron.jobs[0]: zone: unknown zone [Mars/Olympus]",
        "troupe.cron.jobs = [ { name = x, spec = \"* * * * *\", target = t,"
            + " zone = \"Mars/Olympus\" } ]");
    assertMessage(
        "troupe.cron.jobs[1]",
        "troupe.cron.jobs = [ { name = ok, spec = \"* * * * *\", target = t },"
            + " { name = bad, spec = \"*/0 * * * *\", target = t } ]");
    assertMessage(
        "scope must be one of cluster, node, got [everywhere]",
        "troupe.cron.jobs = [ { name = x, spec = \"* * * * *\", target = t,"
            + " scope = everywhere } ]");
    assertMessage(
        "troupe.cron.jobs[0]",
        "troupe.cron.jobs = [ { spec = \"* * * * *\", target = t } ]"); // no name
  }

  @Test
  void aDeclaredJobWithAnInvalidNameIsRefusedNamingItsPlaceTheValueAndTheRule() {
    String rule = "must be " + Names.RULE;
    assertMessage(
        "troupe.cron.jobs[1]: cron job name " + rule + "; got [nightly report] (U+0020 SPACE",
        "troupe.cron.jobs = [ { name = ok, spec = \"* * * * *\", target = t },"
            + " { name = \"nightly report\", spec = \"* * * * *\", target = t } ]");
    assertMessage(
        "troupe.cron.jobs[0]: cron job target (an address-book name) " + rule + "; got [a b]",
        "troupe.cron.jobs = [ { name = x, spec = \"* * * * *\", target = \"a b\" } ]");
    assertMessage(
        "troupe.cron.jobs[0]: WorkerGroup name " + rule + "; got [w/1] ('/' U+002F SOLIDUS",
        "troupe.cron.jobs = [ { name = x, spec = \"* * * * *\", target-group = \"w/1\" } ]");
    assertMessage(
        "troupe.cron.jobs[0]: cron job name " + rule + "; got [x\\u000ay]",
        "troupe.cron.jobs = [ { name = \"x\\ny\", spec = \"* * * * *\", target = t } ]");
  }

  private static void assertMessage(String expected, String hocon) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(hocon));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertFalse(e.getMessage().isBlank());
  }
}
