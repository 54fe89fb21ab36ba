package io.ringstore.replication.tls;

import io.ringstore.replication.ReplicationConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * This board's key and certificate and its peers' certificates, read and checked once at start.
 * A peer is pinned by the SHA-256 fingerprint of its certificate file {@code <peerCerts>/<name>.crt}:
 * a certificate is only ever accepted as that one peer's, whatever else is in the folder.
 *
 * @param name   this board's name (its certificate's CN, as keygen wrote it)
 * @param key    this board's private key
 * @param cert   this board's certificate
 * @param peers  every configured peer's certificate, by name
 */
public record TlsMaterial(String name, PrivateKey key, X509Certificate cert, Map<String, X509Certificate> peers) {
    /**
     * The PKCS12 store's password. Not a secret: PKCS12 wants one, and keygen has nowhere safer
     * to keep it than beside the store. The key is protected by the file's mode (0600, the
     * daemon's user) and by the board's disk, as an ssh host key is.
     */
    public static final String STORE_PASSWORD = "ringstore";
    /** The alias keygen stores the key under. */
    public static final String ALIAS = "board";

    /** Key material that cannot be used; the message names the file and what to do. */
    public static final class BadMaterial extends Exception {
        public BadMaterial(String message) {
            super(message);
        }
    }

    public TlsMaterial {
        peers = Collections.unmodifiableMap(new LinkedHashMap<>(peers));
    }

    public static TlsMaterial load(ReplicationConfig config) throws BadMaterial {
        return load(config.keyStore(), config.peerCerts(), config.peers().keySet());
    }

    /** Reads the key store and {@code <peerCerts>/<name>.crt} for each of {@code peerNames}. */
    public static TlsMaterial load(Path keyStore, Path peerCerts, Collection<String> peerNames) throws BadMaterial {
        checkPrivate(keyStore);
        KeyStore ks;
        try (InputStream in = Files.newInputStream(keyStore)) {
            ks = KeyStore.getInstance("PKCS12");
            ks.load(in, STORE_PASSWORD.toCharArray());
        } catch (NoSuchFileException e) {
            throw new BadMaterial("key store not found: " + keyStore + " (make it with: ringstore replication keygen)");
        } catch (IOException | GeneralSecurityException e) {
            throw new BadMaterial("cannot read key store " + keyStore + ": " + e.getMessage()
                    + " (it must be a PKCS12 store made by ringstore replication keygen)");
        }
        PrivateKey key = null;
        X509Certificate cert = null;
        try {
            for (Enumeration<String> aliases = ks.aliases(); aliases.hasMoreElements(); ) {
                String alias = aliases.nextElement();
                if (ks.isKeyEntry(alias)) {
                    if (key != null) {
                        throw new BadMaterial("key store " + keyStore + " holds more than one key; it must hold exactly this board's");
                    }
                    key = (PrivateKey) ks.getKey(alias, STORE_PASSWORD.toCharArray());
                    cert = (X509Certificate) ks.getCertificate(alias);
                }
            }
        } catch (GeneralSecurityException e) {
            throw new BadMaterial("cannot read the key in " + keyStore + ": " + e.getMessage());
        }
        if (key == null || cert == null) {
            throw new BadMaterial("key store " + keyStore + " holds no private key with a certificate");
        }
        String name = commonName(cert, keyStore);
        Map<String, X509Certificate> peers = new LinkedHashMap<>();
        Map<String, String> byFingerprint = new LinkedHashMap<>();
        byFingerprint.put(Fingerprints.sha256(cert), name);
        for (String peer : peerNames) {
            if (peer.equals(name)) {
                throw new BadMaterial("peer " + peer + " is this board itself (the key store " + keyStore
                        + " is " + name + "'s); list only the other boards");
            }
            Path file = peerCerts.resolve(peer + ".crt");
            X509Certificate c = readCertificate(file);
            String cn = commonName(c, file);
            if (!cn.equals(peer)) {
                throw new BadMaterial(file + " holds the certificate of board '" + cn + "', not of " + peer
                        + " (copy " + peer + ".crt from that board's keygen folder)");
            }
            String other = byFingerprint.putIfAbsent(Fingerprints.sha256(c), peer);
            if (other != null) {
                throw new BadMaterial(file + " is the same certificate as " + other + "'s: every board needs its own keys");
            }
            peers.put(peer, c);
        }
        warnIfExpiring(name, cert, keyStore);
        peers.forEach((peer, c) -> warnIfExpiring(peer, c, peerCerts.resolve(peer + ".crt")));
        return new TlsMaterial(name, key, cert, peers);
    }

    /** How long before a certificate's end the journal starts saying so at every start. */
    static final java.time.Duration EXPIRY_WARNING = java.time.Duration.ofDays(30);

    /**
     * Not a start failure: the store serves its local clients either way; the peer refuses the
     * handshake and logs why. But an operator should hear of it before that day.
     */
    private static void warnIfExpiring(String board, X509Certificate c, Path file) {
        java.time.Instant end = c.getNotAfter().toInstant();
        java.time.Instant now = java.time.Instant.now();
        if (end.isBefore(now)) {
            org.tinylog.Logger.warn("replication certificate of {} expired on {}: its peers refuse it; make new keys on {} "
                    + "with ringstore replication keygen (file={})", board, end, board, file);
        } else if (end.isBefore(now.plus(EXPIRY_WARNING))) {
            org.tinylog.Logger.warn("replication certificate of {} expires on {}: make new keys on {} before then "
                    + "with ringstore replication keygen (file={})", board, end, board, file);
        }
        if (c.getNotBefore().toInstant().isAfter(now)) {
            org.tinylog.Logger.warn("replication certificate of {} is not valid before {}: is this board's clock right? (file={})",
                    board, c.getNotBefore().toInstant(), file);
        }
    }

    /** Reads one certificate (PEM or DER), as keygen writes it. */
    public static X509Certificate readCertificate(Path file) throws BadMaterial {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (NoSuchFileException e) {
            throw new BadMaterial("peer certificate not found: " + file
                    + " (copy it from that board: ringstore replication keygen wrote it there)");
        } catch (IOException | CertificateException e) {
            throw new BadMaterial("cannot read certificate " + file + ": " + e.getMessage());
        }
    }

    static String commonName(X509Certificate c, Path where) throws BadMaterial {
        try {
            for (Rdn rdn : new LdapName(c.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return ReplicationConfig.checkName(rdn.getValue().toString());
                }
            }
        } catch (InvalidNameException | IllegalArgumentException e) {
            throw new BadMaterial(where + ": certificate subject " + c.getSubjectX500Principal() + " is not a board name: "
                    + e.getMessage());
        }
        throw new BadMaterial(where + ": certificate subject " + c.getSubjectX500Principal() + " has no CN (board name)");
    }

    /** Like ssh with its keys: a private key others can read is refused, not used. */
    private static void checkPrivate(Path keyStore) throws BadMaterial {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(keyStore);
        } catch (NoSuchFileException e) {
            throw new BadMaterial("key store not found: " + keyStore + " (make it with: ringstore replication keygen)");
        } catch (UnsupportedOperationException | IOException e) {
            return;
        }
        Set<PosixFilePermission> open = EnumSet.copyOf(perms);
        open.removeAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
        if (!open.isEmpty()) {
            throw new BadMaterial("key store " + keyStore + " can be read by others (" + java.nio.file.attribute.PosixFilePermissions.toString(perms)
                    + "): chmod 600 " + keyStore);
        }
    }
}
