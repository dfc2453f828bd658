/**
 * Locks and leases with fencing tokens on Troupe's storage ({@link
 * dev.troupe.core.lock.LockRegistry}), and {@link dev.troupe.core.lock.TroupeLease}, a Pekko {@code
 * Lease} for singletons and sharding.
 */
package dev.troupe.core.lock;
