package dev.troupe.core.lock;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class InMemoryLockRegistryTest extends LockRegistryContract {
  private InMemoryLockRegistry registry;

  /** One registry per test stands for every node: it lives in one JVM. */
  @Override
  protected LockRegistry createRegistry() {
    if (registry == null) {
      registry = InMemoryLockRegistry.create();
    }
    return registry;
  }

  @AfterEach
  void forget() {
    registry = null;
  }

  @Override
  @Test
  void closingTheRegistryReleasesItsLocksAndRefusesNewOnes() {
    InMemoryLockRegistry own = InMemoryLockRegistry.create();
    Lock lock = own.tryAcquire("x").orElseThrow();
    own.close();
    own.close();
    assertFalse(lock.isHeld());
    assertThrows(IllegalStateException.class, () -> own.tryAcquire("x"));
  }

  @Test
  void theSharedRegistryIsOneForTheWholeJvmAndCannotBeClosed() {
    InMemoryLockRegistry shared = InMemoryLockRegistry.shared();
    Lock lock = shared.tryAcquire(freshId()).orElseThrow();
    shared.close();
    assertTrue(lock.isHeld(), "close() of the shared registry does nothing");
    assertTrue(InMemoryLockRegistry.shared().tryAcquire(lock.id()).isEmpty());
    lock.close();
  }
}
