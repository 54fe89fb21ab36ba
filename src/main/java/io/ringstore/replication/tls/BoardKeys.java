package io.ringstore.replication.tls;

import io.ringstore.replication.ReplicationConfig;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Makes one board's replication keys: an EC P-256 key with a self-signed certificate whose CN
 * is the board's name, in {@code <dir>/<name>.p12} (PKCS12, mode 0600: stays on the board), and
 * the certificate alone in {@code <dir>/<name>.crt} (PEM: copied to every peer's
 * {@code replication_peer_certs} folder).
 *
 * <p>The certificate is made by {@code keytool} from the running JVM's own {@code bin/}: the JDK
 * has no public API to build an X.509 certificate, and keytool is part of the runtime the board
 * already has (Debian's and Raspberry Pi OS's {@code openjdk-25-jre-headless} ship
 * {@code bin/keytool}, as every JRE since 1.2 does), so nothing is added to the image and no
 * DER encoder of our own has to be right. EC P-256 because it is small and quick to sign with
 * on a Pi Zero's cores and every TLS 1.3 stack speaks it.
 *
 * <p>Files are born in a private temporary folder inside {@code dir} (keytool writes with the
 * process umask; nobody else can open anything in a 0700 folder), set to their final modes and
 * owner, forced, then linked into {@code dir} under their names (a link fails if the name
 * exists: an existing key is never overwritten, even by a concurrent run) and {@code dir} is
 * forced.
 */
public final class BoardKeys {
    /** Default validity: long, because a certificate expiring on an unattended appliance stops replication. */
    public static final int DEFAULT_DAYS = 3650;
    /**
     * Start of validity: a day back, so a peer whose clock is somewhat behind this board's (a Pi
     * has no real-time clock; fake-hwclock restores the last shutdown time) accepts it at once.
     */
    public static final String DEFAULT_START = "-1d";
    private static final long KEYTOOL_TIMEOUT_SECONDS = 120;

    /** What keygen made. */
    public record Made(Path keyStore, Path certificate, String fingerprint) {}

    /** keygen could not make the keys; the message says why and changes nothing in {@code dir}. */
    public static final class KeygenException extends Exception {
        public KeygenException(String message) {
            super(message);
        }
    }

    private BoardKeys() {}

    /**
     * Makes {@code name}'s keys in {@code dir} (created if missing).
     *
     * @param days      how long the certificate is valid
     * @param startDate keytool's {@code -startdate} ({@link #DEFAULT_START}; tests make expired and future certificates with it)
     * @param owner     user to own both files (needs root), or null for whoever runs this
     */
    public static Made generate(String name, Path dir, int days, String startDate, String owner) throws KeygenException {
        try {
            ReplicationConfig.checkName(name);
        } catch (IllegalArgumentException e) {
            throw new KeygenException(e.getMessage());
        }
        if (days < 1) {
            throw new KeygenException("--days must be at least 1: " + days);
        }
        Path keyStore = dir.resolve(name + ".p12");
        Path certificate = dir.resolve(name + ".crt");
        for (Path p : List.of(keyStore, certificate)) {
            if (Files.exists(p)) {
                throw new KeygenException(p + " already exists; a board's keys are made once (remove both files first "
                        + "to make new ones, then copy the new .crt to every peer)");
            }
        }
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        if (!Files.isExecutable(keytool)) {
            throw new KeygenException("keytool not found at " + keytool + " (the Java runtime ships it: "
                    + "install openjdk-25-jre-headless)");
        }
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempDirectory(dir, ".keygen-", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Path tmpStore = tmp.resolve(name + ".p12");
            runKeytool(keytool, name, tmpStore, days, startDate);
            Files.setPosixFilePermissions(tmpStore, PosixFilePermissions.fromString("rw-------"));
            X509Certificate cert = TlsMaterial.load(tmpStore, tmp, List.of()).cert();
            Path tmpCert = tmp.resolve(name + ".crt");
            Files.writeString(tmpCert, pem(cert), StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(tmpCert, PosixFilePermissions.fromString("rw-r--r--"));
            if (owner != null) {
                UserPrincipal user = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(owner);
                Files.setOwner(tmpStore, user);
                Files.setOwner(tmpCert, user);
            }
            force(tmpStore);
            force(tmpCert);
            // commit point: the key store's name appears; the certificate follows (a crash between
            // leaves a key store without its .crt: keygen refuses to run again until it is removed,
            // and the .crt can be exported from the store with keytool -exportcert).
            Files.createLink(keyStore, tmpStore);
            Files.createLink(certificate, tmpCert);
            forceFolder(dir);
            return new Made(keyStore, certificate, Fingerprints.sha256(cert));
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new KeygenException("no such user for --owner: " + owner + " (nothing was made)");
        } catch (FileAlreadyExistsException e) {
            throw new KeygenException(e.getFile() + " appeared while keys were being made (another keygen?); check both files");
        } catch (IOException | TlsMaterial.BadMaterial e) {
            throw new KeygenException("cannot make keys in " + dir + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeygenException("interrupted while making keys");
        } finally {
            if (tmp != null) {
                deleteTree(tmp);
            }
        }
    }

    private static void runKeytool(Path keytool, String name, Path store, int days, String startDate)
            throws IOException, InterruptedException, KeygenException {
        List<String> cmd = new ArrayList<>(List.of(keytool.toString(), "-genkeypair", "-alias", TlsMaterial.ALIAS,
                "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=" + name,
                "-validity", Integer.toString(days), "-startdate", startDate, "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", TlsMaterial.STORE_PASSWORD, "-noprompt"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new KeygenException("keytool did not finish within " + KEYTOOL_TIMEOUT_SECONDS + " s");
        }
        if (p.exitValue() != 0 || !Files.exists(store)) {
            throw new KeygenException("keytool failed (exit " + p.exitValue() + "): "
                    + new String(out, StandardCharsets.UTF_8).strip());
        }
    }

    /** The certificate as PEM, the form {@code keytool -exportcert -rfc} and openssl write. */
    static String pem(X509Certificate cert) throws IOException {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException("cannot encode certificate", e);
        }
    }

    private static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void forceFolder(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static void deleteTree(Path tmp) {
        try (Stream<Path> s = Files.walk(tmp)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            org.tinylog.Logger.warn("keygen could not remove its temporary folder {}: {}", tmp, e.toString());
        }
    }
}
