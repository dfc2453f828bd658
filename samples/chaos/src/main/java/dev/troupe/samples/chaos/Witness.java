package dev.troupe.samples.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.troupe.testkit.ChildNode;

/**
 * A node's witness log: one JSON object per event on standard output, as {@code TROUPE-W {...}},
 * which the harness keeps in the node's log file. Fields: {@code kind}, {@code node}, {@code pid},
 * {@code name}, {@code epoch} (fencing token, or -1), {@code t} (wall-clock millis; all nodes run
 * on one machine, so their clocks agree; for a write, when it returned), {@code t0} (for a write,
 * when it was sent) and per kind {@code ok}, {@code at}, {@code id}.
 *
 * <p>Kinds: {@code daemon_start}, {@code daemon_stop}, {@code beat} (a daemon's fenced write, with
 * {@code ok}), {@code tick} (a cron tick received: {@code name} = job, {@code at} = scheduled
 * millis), {@code lock_acquire}, {@code lock_write} (with {@code ok}), {@code lock_release}, {@code
 * lock_lost}, {@code write_ack} (an acknowledged write: {@code id}), {@code scheduler_start},
 * {@code scheduler_claim}, {@code scheduler_stop} (the cron scheduler on this node: took over,
 * about to claim, stopped; {@code epoch} = its token).
 */
final class Witness {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String node;
  private final long pid = ProcessHandle.current().pid();

  Witness(String node) {
    this.node = node;
  }

  ObjectNode event(String kind, String name, long epoch) {
    ObjectNode event = JSON.createObjectNode();
    event.put("kind", kind);
    event.put("node", node);
    event.put("pid", pid);
    event.put("name", name);
    event.put("epoch", epoch);
    long now = System.currentTimeMillis();
    event.put("t0", now); // when the event began (for a write: before it was sent)
    event.put("t", now); // when it happened (for a write: set again once it returned)
    return event;
  }

  void emit(ObjectNode event) {
    ChildNode.emit("W", event.toString());
  }

  void emit(String kind, String name, long epoch) {
    emit(event(kind, name, epoch));
  }
}
