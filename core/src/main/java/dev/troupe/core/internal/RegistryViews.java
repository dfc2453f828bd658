package dev.troupe.core.internal;

import dev.troupe.core.WorkerEntry;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. The registry's published state: a concurrent map of immutable group views in which
 * {@link RegistryActor} replaces the views of the groups that changed and readers on any thread
 * read without locking, plus the subscribers that the actor calls.
 */
public final class RegistryViews {
  /*
   * Concurrency: views is written only by the registry actor (one writer) and read by anyone.
   * Subscribers are added, called and removed only on the actor, so each one sees its lists in
   * order and never concurrently; Subscription.close() sets a volatile flag checked before every
   * call, so no call starts after close() returns.
   */
  private static final Logger log = LoggerFactory.getLogger(RegistryViews.class);

  // written by the actor only, one group at a time
  private final Map<String, GroupView> views = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, List<Subscriber>> subscribers = new HashMap<>(); // actor only

  /** The current views by group name: a live concurrent map, each group replaced atomically. */
  public Map<String, GroupView> views() {
    return views;
  }

  /** The current view of {@code group}, or null. */
  public GroupView view(String group) {
    return views.get(group);
  }

  /** A subscriber of one group and protocol. */
  public static final class Subscriber {
    private final String group;
    private final String protocol;
    private final Consumer<List<WorkerEntry<Object>>> listener;
    private final ActorRef<Object> owner;
    private volatile boolean closed;
    private List<WorkerEntry<Object>> last;

    public Subscriber(String group, String protocol, Consumer<List<WorkerEntry<Object>>> listener) {
      this(group, protocol, listener, null);
    }

    /**
     * A subscriber on behalf of an actor ({@code owner}, may be null): the registry ends the
     * subscription when the actor stops.
     */
    public Subscriber(
        String group,
        String protocol,
        Consumer<List<WorkerEntry<Object>>> listener,
        ActorRef<Object> owner) {
      this.group = group;
      this.protocol = protocol;
      this.listener = listener;
      this.owner = owner;
    }

    public String group() {
      return group;
    }

    public String protocol() {
      return protocol;
    }

    /** The actor this subscription is for, or null. */
    public ActorRef<Object> owner() {
      return owner;
    }

    public void close() {
      closed = true;
    }

    public boolean isClosed() {
      return closed;
    }

    void deliver(GroupView view) {
      GroupView.ProtocolView members = view == null ? null : view.protocol(protocol);
      List<WorkerEntry<Object>> current = members == null ? List.of() : members.reachable();
      if (closed || current.equals(last)) {
        return;
      }
      last = current;
      try {
        listener.accept(current);
      } catch (RuntimeException e) {
        log.warn("WorkerRegistry listener of group [{}] failed; it stays subscribed", group, e);
      }
    }
  }

  /** Actor only: replaces the views of {@code changed} groups and tells their subscribers. */
  void publish(Map<String, GroupView> changed) {
    if (changed.isEmpty()) {
      return;
    }
    changed.forEach(
        (name, view) -> {
          if (view == null || view.isEmpty()) {
            views.remove(name);
          } else {
            views.put(name, view);
          }
        });
    for (String name : changed.keySet()) {
      List<Subscriber> list = subscribers.get(name);
      if (list != null) {
        list.removeIf(Subscriber::isClosed);
        for (Subscriber s : List.copyOf(list)) {
          s.deliver(views.get(name));
        }
      }
    }
  }

  /** Actor only: adds {@code subscriber} and gives it the current members. */
  void subscribe(Subscriber subscriber) {
    subscribers.computeIfAbsent(subscriber.group, g -> new java.util.ArrayList<>()).add(subscriber);
    subscriber.deliver(views.get(subscriber.group));
  }

  /** Actor only: drops closed subscribers. */
  void removeClosed() {
    Collection<List<Subscriber>> lists = subscribers.values();
    lists.forEach(l -> l.removeIf(Subscriber::isClosed));
    lists.removeIf(List::isEmpty);
  }
}
