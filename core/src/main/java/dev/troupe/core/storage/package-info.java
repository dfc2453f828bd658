/**
 * Troupe's storage: a pooled JDBC connection to embedded H2 (the default) or PostgreSQL, with the
 * schemas every module installs ({@link dev.troupe.core.storage.Storage}). The application adds the
 * JDBC driver of its URL.
 */
package dev.troupe.core.storage;
