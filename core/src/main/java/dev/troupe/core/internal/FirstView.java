package dev.troupe.core.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. Whether a replicated structure (the worker registry or the address book) of this
 * node has had its first complete view of the cluster: this member was Up and held a complete copy
 * of every other reachable Up member's entries. Set once by the structure's actor, read by the
 * readiness check from any thread.
 */
public final class FirstView {
  private static final Logger log = LoggerFactory.getLogger(FirstView.class);

  private final String what;
  private final long createdNanos = System.nanoTime();
  private volatile boolean reached;

  /**
   * @param what the structure, for the log line ("worker registry", "address book")
   */
  public FirstView(String what) {
    this.what = what;
  }

  /** Whether the first complete view was reached. */
  public boolean reached() {
    return reached;
  }

  /** Marks the first complete view reached, with copies from {@code peers} other members. */
  void reach(int peers) {
    if (!reached) {
      reached = true;
      log.debug(
          "The {} has its first complete view ({} other members) {} ms after it started",
          what,
          peers,
          (System.nanoTime() - createdNanos) / 1_000_000);
    }
  }

  @Override
  public String toString() {
    return what + (reached ? " has its first view" : " has no complete view yet");
  }
}
