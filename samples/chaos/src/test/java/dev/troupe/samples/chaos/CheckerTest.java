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
