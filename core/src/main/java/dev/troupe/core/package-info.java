/**
 * Troupe's node and its cluster-wide directories: {@link dev.troupe.core.TroupeNode} (attach to an
 * application's actor system, or start one), the worker group registry ({@link
 * dev.troupe.core.WorkerRegistry}, Erlang {@code pg} on Pekko), the address book ({@link
 * dev.troupe.core.AddressBook}) and the one placement function, {@link dev.troupe.core.HashRing}.
 *
 * <p>Types in {@code dev.troupe.core.internal} are not API and may change without notice.
 */
package dev.troupe.core;
