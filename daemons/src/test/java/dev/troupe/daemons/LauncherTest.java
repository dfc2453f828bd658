package dev.troupe.daemons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.Names;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A singleton daemon's name follows the rule of {@link Names}. */
final class LauncherTest {

  @Test
  void aSingletonDaemonWithAValidNameIsScanned() {
    RecoveryScanner scanner = Launcher.singletonDaemon("room-stats", List.of(1));
    assertEquals(List.of(List.of(new DaemonSpec("room-stats", List.of(1), 0))), pages(scanner));
  }

  @Test
  void aSingletonDaemonWithAnInvalidNameIsRefusedNamingTheValueAndTheRule() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Launcher.singletonDaemon("room stats", List.of()));
    assertTrue(e.getMessage().startsWith("daemon name must be " + Names.RULE), e.getMessage());
    assertTrue(e.getMessage().contains("[room stats] (U+0020 SPACE at index 4)"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Launcher.singletonDaemon(null, List.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> Launcher.singletonDaemon("d".repeat(Names.MAX_UTF8_BYTES + 1), List.of()));
  }

  private static List<List<DaemonSpec>> pages(RecoveryScanner scanner) {
    List<List<DaemonSpec>> pages = new java.util.ArrayList<>();
    scanner.scan().forEachRemaining(pages::add);
    return pages;
  }
}
