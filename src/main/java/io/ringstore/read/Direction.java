package io.ringstore.read;

/** Which way a stream read goes. */
public enum Direction { FORWARD, BACKWARD }
