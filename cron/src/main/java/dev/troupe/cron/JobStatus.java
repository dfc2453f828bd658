package dev.troupe.cron;

import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.Address;

/**
 * A job as the scheduler knows it.
 *
 * @param name the job's name
 * @param spec its cron expression
 * @param zone its time zone
 * @param nextFire the next scheduled instant; empty while paused
 * @param lastFire the latest scheduled instant that was delivered
 * @param owner the node that delivers it (the ring owner of the name; for NODE jobs every node)
 * @param paused whether it is paused
 * @param recentRuns the latest runs, newest first
 * @since 0.1.0
 */
public record JobStatus(
    String name,
    String spec,
    ZoneId zone,
    Optional<Instant> nextFire,
    Optional<Instant> lastFire,
    Optional<Address> owner,
    boolean paused,
    List<JobRun> recentRuns) {}
