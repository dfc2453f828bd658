package dev.troupe.cron.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.troupe.core.storage.Storage;
import dev.troupe.cron.JobRun;
import dev.troupe.cron.internal.CronStore.NotRun;
import dev.troupe.testkit.TestDatabases;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The history read the dashboard uses: the latest runs per job, one bounded query per job. */
final class CronStoreHistoryTest {
  private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");

  @Test
  void theLatestRunsOfEachJobNewestFirstAndNoOtherNamespacesRows() {
    try (Storage storage = Storage.fromUrl(TestDatabases.freshH2Url())) {
      CronStore store = new CronStore(storage, "mine", "mine");
      CronStore other = new CronStore(storage, "theirs", "theirs");
      long token = store.takeOver();
      List<NotRun> rows = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        rows.add(new NotRun("a", T0.plusSeconds(i), "*", "missed", "a" + i));
      }
      for (int i = 0; i < 3; i++) {
        rows.add(new NotRun("b", T0.plusSeconds(i), "*", "skipped", "b" + i));
      }
      store.notRun(rows, token);
      other.notRun(
          List.of(new NotRun("a", T0.plusSeconds(99), "*", "missed", "theirs")), other.takeOver());

      Map<String, List<JobRun>> runs = store.recentRuns(List.of("a", "b", "c"), 2);
      assertEquals(
          List.of(T0.plusSeconds(4), T0.plusSeconds(3)),
          runs.get("a").stream().map(JobRun::scheduledAt).toList());
      assertEquals(List.of("b2", "b1"), runs.get("b").stream().map(JobRun::detail).toList());
      assertFalse(runs.containsKey("c"), "a job without runs has no entry");
      assertEquals(runs.get("a"), store.recentRuns(2).get("a"), "the same as the full scan");
    }
  }
}
