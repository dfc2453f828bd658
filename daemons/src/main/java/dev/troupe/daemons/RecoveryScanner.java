package dev.troupe.daemons;

import java.util.Iterator;
import java.util.List;

/**
 * The daemons a {@link Launcher} should run, from a list the application owns (a table, a config
 * file), in pages. The leader runs it when it takes over and at every re-scan, on a thread where it
 * may block; a scanner that throws is retried with backoff and the failure is reported in the log.
 * A spec whose name is not a valid {@linkplain dev.troupe.core.Names name} is skipped, and the
 * log's warning names the value and the rule; the other specs run.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface RecoveryScanner {
  /** The daemons to run, page by page; each spec's epoch is ignored. */
  Iterator<List<DaemonSpec>> scan();
}
