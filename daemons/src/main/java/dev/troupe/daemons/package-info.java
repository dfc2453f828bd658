/**
 * Named long-running actors kept alive cluster-wide ({@link dev.troupe.daemons.Daemons}):
 * launchers, recovery scanners, ring placement and fencing epochs; {@link
 * dev.troupe.daemons.LeaderOnly} consumers and the at-most-once {@link dev.troupe.daemons.OnceLog}.
 */
package dev.troupe.daemons;
