package io.ringstore.replication.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

/** SHA-256 of a certificate's DER bytes, as {@code keytool -printcert} shows it (AB:CD:...). */
public final class Fingerprints {
    private Fingerprints() {}

    public static String sha256(X509Certificate cert) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            // SHA-256 is in every JDK; a certificate we hold was decoded from these bytes.
            throw new IllegalStateException(e);
        }
    }
}
