package io.ringstore.status;

/** The status lights: three by default, and an optional fourth for replication (two boards). */
public enum Led { WRITE, LAG, FAULT, REPLICA }
