package io.ringstore.status;

/** The three status lights. */
public enum Led { WRITE, LAG, FAULT }
