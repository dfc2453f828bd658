package dev.troupe.samples.chat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The node's metrics, scraped as Prometheus text at {@code /metrics}. */
final class ChatMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicInteger connections = new AtomicInteger();
  private final Counter posted;
  private final Counter delivered;
  private final Counter rejected;
  private final Timer delivery;

  ChatMetrics(String node) {
    registry.config().commonTags("node", node);
    Gauge.builder("chat.connections", connections, AtomicInteger::get)
        .description("Open chat WebSocket connections on this node")
        .register(registry);
    posted =
        Counter.builder("chat.messages.posted")
            .description("Messages posted through this node's connections")
            .register(registry);
    delivered =
        Counter.builder("chat.messages.delivered")
            .description("Messages written to this node's connections")
            .register(registry);
    rejected =
        Counter.builder("chat.frames.rejected")
            .description("Frames refused: malformed, unknown, rate-limited, too big, binary")
            .register(registry);
    delivery =
        Timer.builder("chat.messages.delivery")
            .description(
                "From the room accepting a message to this node writing it to a connection")
            .publishPercentiles(0.99)
            .distributionStatisticExpiry(Duration.ofSeconds(10))
            .distributionStatisticBufferLength(2)
            .register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  PrometheusMeterRegistry registry() {
    return registry;
  }

  int connections() {
    return connections.get();
  }

  void connectionOpened() {
    connections.incrementAndGet();
  }

  void connectionClosed() {
    connections.decrementAndGet();
  }

  void posted() {
    posted.increment();
  }

  /** A message written to a connection; {@code postedAt}: when its room accepted it (millis). */
  void delivered(long postedAt) {
    delivered.increment();
    delivery.record(Math.max(0, System.currentTimeMillis() - postedAt), TimeUnit.MILLISECONDS);
  }

  /** Messages posted through this node's connections so far. */
  double postedCount() {
    return posted.count();
  }

  /** The 99th percentile of the delivery time over the last 10 to 20 seconds, in milliseconds. */
  double deliveryP99Millis() {
    for (ValueAtPercentile p : delivery.takeSnapshot().percentileValues()) {
      return p.value(TimeUnit.MILLISECONDS);
    }
    return 0;
  }

  void rejected() {
    rejected.increment();
  }
}
