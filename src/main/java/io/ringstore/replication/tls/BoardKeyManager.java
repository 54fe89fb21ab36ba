package io.ringstore.replication.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Always presents this board's one key and certificate. The JDK's key managers choose among
 * keys by issuer and validity, and when this board's certificate has expired they would send
 * none: the peer would then log "empty certificate chain" instead of "expired".
 */
final class BoardKeyManager extends X509ExtendedKeyManager {
    private final TlsMaterial material;

    BoardKeyManager(TlsMaterial material) {
        this.material = material;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return new String[] {TlsMaterial.ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return TlsMaterial.ALIAS;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return TlsMaterial.ALIAS;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return new String[] {TlsMaterial.ALIAS};
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return keyType.equals(material.key().getAlgorithm()) ? TlsMaterial.ALIAS : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return keyType.equals(material.key().getAlgorithm()) ? TlsMaterial.ALIAS : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return new X509Certificate[] {material.cert()};
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return material.key();
    }
}
