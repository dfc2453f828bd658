package dev.troupe.core.health;

import java.util.List;

/**
 * Whether a Troupe node is ready for work, and if not, why: each entry of {@link #notReady()} names
 * one condition that does not hold yet. A node is ready when
 *
 * <ul>
 *   <li>this member is Up;
 *   <li>the worker registry and the address book each have had their first complete view: a copy of
 *       the entries of every other reachable Up member;
 *   <li>its storage answers, if the node uses storage ({@code troupe.core.health.storage}).
 * </ul>
 *
 * @param notReady what does not hold yet, in words; empty when the node is ready
 * @since 0.3.0
 */
public record Readiness(List<String> notReady) {

  /**
   * @throws IllegalArgumentException if {@code notReady} is null
   */
  public Readiness {
    if (notReady == null) {
      throw new IllegalArgumentException("Readiness.notReady must not be null");
    }
    notReady = List.copyOf(notReady);
  }

  /** Whether every condition holds. */
  public boolean isReady() {
    return notReady.isEmpty();
  }

  @Override
  public String toString() {
    return isReady() ? "ready" : "not ready: " + String.join("; ", notReady);
  }
}
