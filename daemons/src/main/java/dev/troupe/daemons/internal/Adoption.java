package dev.troupe.daemons.internal;

import java.util.HashSet;
import java.util.Set;

/**
 * INTERNAL API. What a new daemon leader waits for before it places anything, pure: the daemon-host
 * group's first view, every host's report of what runs there (or the report timeout), every
 * launcher's first scan, and the spawned daemons from the database. Until then it only adopts what
 * the hosts report; requests wait. Placing earlier would start a second instance of a daemon that
 * runs on a host whose report has not arrived (the lease would refuse it, but the start would be
 * wasted and the daemon restarted).
 */
final class Adoption {
  private boolean hostsKnown;
  private final Set<String> reportsPending = new HashSet<>();
  private boolean reportsDue;
  private int scansPending;
  private boolean spawnedLoaded;

  /** An adoption that waits for {@code launchers} first scans. */
  Adoption(int launchers) {
    this.scansPending = launchers;
  }

  /** The host group's view arrived. */
  void hostsKnown() {
    hostsKnown = true;
  }

  /** A report from {@code node} was asked for. */
  void reportRequested(String node) {
    reportsPending.add(node);
  }

  /** {@code node} answered (or its ask timed out). */
  void reported(String node) {
    reportsPending.remove(node);
  }

  /** The report timeout passed: missing reports are no longer waited for. */
  void reportsDue() {
    reportsDue = true;
  }

  /** A launcher's first scan ended (with or without a failure: a failed one is retried later). */
  void scanned() {
    if (scansPending > 0) {
      scansPending--;
    }
  }

  /** The spawned daemons were read (or could not be: they are read again later). */
  void spawnedLoaded() {
    spawnedLoaded = true;
  }

  /** Whether the leader may place now. */
  boolean complete() {
    return hostsKnown
        && (reportsPending.isEmpty() || reportsDue)
        && scansPending == 0
        && spawnedLoaded;
  }

  @Override
  public String toString() {
    return "Adoption[hostsKnown="
        + hostsKnown
        + ", reportsPending="
        + reportsPending
        + ", reportsDue="
        + reportsDue
        + ", scansPending="
        + scansPending
        + ", spawnedLoaded="
        + spawnedLoaded
        + "]";
  }
}
