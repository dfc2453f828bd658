package dev.troupe.daemons;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Starts daemons of one launcher by name, cluster-wide: ergo's spawnRegister.
 *
 * @param <M> the daemons' protocol
 * @since 0.1.0
 */
public interface Spawner<M> {
  /**
   * Asks the leader to run daemon {@code daemonName} with {@code args}: it places it on {@code
   * HashRing.pick(daemonName)}, starts it there, registers it in the address book under its name,
   * and completes with its ref. If the name already runs, completes with the running instance (its
   * arguments unchanged): never a second copy.
   *
   * @return the daemon, or a stage failed with {@link IllegalArgumentException} if the arguments
   *     are not JSON-serializable or the launcher is unknown on the chosen node, or with {@link
   *     java.util.concurrent.TimeoutException} if the leader does not answer in time
   * @throws IllegalArgumentException if {@code daemonName} is not a valid {@linkplain
   *     dev.troupe.core.Names name} (null, empty, longer than 256 bytes in UTF-8, or with a
   *     character outside the rule); the message names the value and the rule
   */
  CompletionStage<ActorRef<M>> spawnRegister(String daemonName, Object... args);
}
