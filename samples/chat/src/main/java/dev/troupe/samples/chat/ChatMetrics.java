package dev.troupe.samples.chat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/** The node's metrics, scraped as Prometheus text at {@code /metrics}. */
final class ChatMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicInteger connections = new AtomicInteger();
  private final Counter posted;
  private final Counter delivered;
  private final Counter rejected;

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

  void delivered() {
    delivered.increment();
  }

  void rejected() {
    rejected.increment();
  }
}
