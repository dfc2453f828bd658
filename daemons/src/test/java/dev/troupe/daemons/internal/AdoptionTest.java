package dev.troupe.daemons.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

final class AdoptionTest {
  @Test
  void completeOnlyWithHostsReportsScansAndSpawnedDaemons() {
    Adoption a = new Adoption(2);
    a.spawnedLoaded();
    a.hostsKnown();
    a.reportRequested("a");
    a.reportRequested("b");
    a.scanned();
    a.scanned();
    assertFalse(a.complete(), "reports pending: " + a);
    a.reported("a");
    assertFalse(a.complete(), "b has not reported: " + a);
    a.reported("b");
    assertTrue(a.complete(), a.toString());
  }

  @Test
  void theReportTimeoutEndsTheWaitForSilentHostsButNotForScansOrTheDatabase() {
    Adoption a = new Adoption(1);
    a.hostsKnown();
    a.reportRequested("silent");
    a.reportsDue();
    assertFalse(a.complete(), "scan and spawned daemons pending: " + a);
    a.scanned();
    assertFalse(a.complete(), "spawned daemons pending: " + a);
    a.spawnedLoaded();
    assertTrue(a.complete(), a.toString());
  }

  @Test
  void nothingIsCompleteBeforeTheHostsAreKnown() {
    Adoption a = new Adoption(0);
    a.spawnedLoaded();
    a.reportsDue();
    assertFalse(a.complete(), a.toString());
    a.hostsKnown();
    assertTrue(a.complete(), a.toString());
    a.scanned(); // a re-scan after completion does not go negative
    assertTrue(a.complete());
  }
}
