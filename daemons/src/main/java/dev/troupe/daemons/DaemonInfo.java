package dev.troupe.daemons;

import org.apache.pekko.actor.Address;

/**
 * A running daemon, as the leader knows it.
 *
 * @param name the daemon's name
 * @param launcher its launcher's name
 * @param node the node it runs on
 * @param epoch its instance's epoch
 * @since 0.1.0
 */
public record DaemonInfo(String name, String launcher, Address node, long epoch) {}
