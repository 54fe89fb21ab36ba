package io.ringstore.replication.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly the pinned certificates it is given, by SHA-256 fingerprint, and only while
 * they are valid. Not the JDK's PKIX trust manager: that one accepts a trust anchor presented as
 * the whole chain without checking its dates, and its refusals do not say which board was
 * expected. The accepting side pins every configured peer; the connecting side pins only the
 * board it meant to reach, so another configured peer answering at that address is refused too.
 */
final class PeerTrust extends X509ExtendedTrustManager {
    private final Map<String, String> nameByFingerprint = new LinkedHashMap<>();
    private final Map<String, String> fingerprintByName = new LinkedHashMap<>();
    private final X509Certificate[] accepted;
    /** Whether a certificate passed here: after that, the other side has this side's certificate to judge. */
    private volatile boolean passed;

    PeerTrust(Map<String, X509Certificate> pinned) {
        pinned.forEach((name, cert) -> {
            String fp = Fingerprints.sha256(cert);
            nameByFingerprint.put(fp, name);
            fingerprintByName.put(name, fp);
        });
        accepted = pinned.values().toArray(X509Certificate[]::new);
    }

    /** The pinned peer {@code cert} belongs to, or null. */
    String peerOf(X509Certificate cert) {
        return nameByFingerprint.get(Fingerprints.sha256(cert));
    }

    /** Checks the other side's certificate; the exception's message is the reason logged. */
    void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("no certificate presented");
        }
        X509Certificate cert = chain[0];
        String fp = Fingerprints.sha256(cert);
        String name = nameByFingerprint.get(fp);
        if (name == null) {
            throw new CertificateException(unknown(cert, fp));
        }
        try {
            cert.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new CertificateException("certificate of " + name + " expired on " + cert.getNotAfter().toInstant()
                    + " (make new keys on " + name + " with ringstore replication keygen and copy its .crt here)", e);
        } catch (CertificateNotYetValidException e) {
            throw new CertificateException("certificate of " + name + " is not valid before " + cert.getNotBefore().toInstant()
                    + " (is this board's clock right?)", e);
        }
        passed = true;
    }

    /** Whether a certificate was accepted (meaningful on a per-connection instance). */
    boolean passed() {
        return passed;
    }

    private String unknown(X509Certificate cert, String fp) {
        String subject = cert.getSubjectX500Principal().getName();
        String claimed = subject.startsWith("CN=") ? subject.substring(3).split(",", 2)[0] : null;
        if (claimed != null && fingerprintByName.containsKey(claimed)) {
            return "certificate " + subject + " (SHA-256 " + fp + ") claims to be " + claimed
                    + " but is not the pinned one (SHA-256 " + fingerprintByName.get(claimed) + ")";
        }
        return "certificate " + subject + " (SHA-256 " + fp + ") is not a configured peer's (expected "
                + String.join(" or ", fingerprintByName.keySet()) + ")";
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return accepted.clone();
    }
}
