package dev.troupe.sharding;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.storage.Storage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A fleet worker whose state is a ledger in a {@link Repository}, written through before every
 * acknowledgement: what a write-through worker looks like.
 */
final class LedgerWorker {
  private LedgerWorker() {}

  /** The ledger of a key: every entry acknowledged so far. */
  record Ledger(List<Long> entries) {}

  /** The worker's protocol. */
  sealed interface Command extends TroupeSerializable {}

  /** Appends {@code entry}; replies once it is saved. */
  record Append(long entry, ActorRef<Long> replyTo) implements Command {}

  /** Replies with the node the worker runs on. */
  record Where(ActorRef<String> replyTo) implements Command {}

  static FleetSpec<Command> spec(TroupeNode node) {
    Repository<Ledger> ledgers =
        Repository.create(Storage.get(node.system()), node.namespace(), "ledgers", Ledger.class);
    return FleetSpec.of("ledgers", Command.class, key -> create(key, ledgers));
  }

  static Behavior<Command> create(String key, Repository<Ledger> ledgers) {
    return Behaviors.setup(
        ctx -> {
          Optional<Versioned<Ledger>> loaded = ledgers.load(key);
          List<Long> entries =
              new ArrayList<>(loaded.map(v -> v.value().entries()).orElse(List.of()));
          long[] version = {loaded.map(Versioned::version).orElse(0L)};
          String node = Cluster.get(ctx.getSystem()).selfMember().address().toString();
          return Behaviors.receive(Command.class)
              .onMessage(
                  Append.class,
                  append -> {
                    entries.add(append.entry());
                    Versioned<Ledger> saved =
                        ledgers.save(key, new Ledger(List.copyOf(entries)), version[0]);
                    version[0] = saved.version();
                    append.replyTo().tell(append.entry());
                    return Behaviors.same();
                  })
              .onMessage(
                  Where.class,
                  where -> {
                    where.replyTo().tell(node);
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
