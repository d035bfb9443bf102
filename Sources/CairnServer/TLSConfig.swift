import CNIOBoringSSL
import NIOCore
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

// TLS as Redis 7.0's tls.c (tlsConfigure, createSSLContext), on swift-nio-ssl (BoringSSL): the
// tls-* directives (stored in ParityConfig.swift) become a server-side context for the tls-port
// listeners and a client-side context for outgoing links (replication with tls-replication yes).
// docs/tls.md says what each directive does and which are accepted without effect.

/// The tls-* directives, read together from the parity settings.
struct TLSDirectives: Equatable, Sendable {
    var port = 0
    var certFile = "", keyFile = "", keyFilePass = ""
    var clientCertFile = "", clientKeyFile = "", clientKeyFilePass = ""
    var caCertFile = "", caCertDir = ""
    var dhParamsFile = ""
    var protocols = "", ciphers = "", ciphersuites = ""
    var authClients = "yes"
    var preferServerCiphers = false
    var sessionCaching = true
    var sessionCacheSize = 20 * 1024
    var sessionCacheTimeout = 300
    var replication = false
    var cluster = false

    init(_ p: ParitySettings) {
        port = Int(p.value("tls-port")) ?? 0
        certFile = p.value("tls-cert-file")
        keyFile = p.value("tls-key-file")
        keyFilePass = p.value("tls-key-file-pass")
        clientCertFile = p.value("tls-client-cert-file")
        clientKeyFile = p.value("tls-client-key-file")
        clientKeyFilePass = p.value("tls-client-key-file-pass")
        caCertFile = p.value("tls-ca-cert-file")
        caCertDir = p.value("tls-ca-cert-dir")
        dhParamsFile = p.value("tls-dh-params-file")
        protocols = p.value("tls-protocols")
        ciphers = p.value("tls-ciphers")
        ciphersuites = p.value("tls-ciphersuites")
        authClients = p.value("tls-auth-clients")
        preferServerCiphers = p.value("tls-prefer-server-ciphers") == "yes"
        sessionCaching = p.value("tls-session-caching") == "yes"
        sessionCacheSize = Int(p.value("tls-session-cache-size")) ?? sessionCacheSize
        sessionCacheTimeout = Int(p.value("tls-session-cache-timeout")) ?? sessionCacheTimeout
        replication = p.value("tls-replication") == "yes"
        cluster = p.value("tls-cluster") == "yes"
    }

    /// Redis configures TLS when any of these asks for it (initServer, applyTlsCfg).
    var enabled: Bool { port != 0 || replication || cluster }

    /// The directives whose change reconfigures TLS in Redis (those with applyTlsCfg): every one
    /// but tls-port (applyTLSPort) and tls-auth-clients (read at each accept).
    var reconfigured: TLSDirectives {
        var d = self
        d.port = 0
        d.authClients = ""
        return d
    }

    /// Names of the directives with applyTlsCfg, for CONFIG SET's error.
    static let reconfiguringNames: Set<String> = [
        "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
        "tls-client-key-file-pass", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-dh-params-file", "tls-protocols",
        "tls-ciphers", "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching",
        "tls-session-cache-size", "tls-session-cache-timeout", "tls-replication", "tls-cluster",
    ]
}

/// Why TLS could not be configured: the warning Redis logs (tls.c's texts).
struct TLSConfigFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// The contexts of one TLS configuration: Redis's redis_tls_ctx (accepted connections) and
/// redis_tls_client_ctx (outgoing links; the server's certificate when no client one is set).
/// NIOSSLContext is thread-safe; a new configuration replaces the whole value, so connections
/// already open keep the context they were accepted with.
final class TLSContexts: Sendable {
    let server: NIOSSLContext
    let client: NIOSSLContext
    /// What the contexts were built from.
    let directives: TLSDirectives

    private init(server: NIOSSLContext, client: NIOSSLContext, directives: TLSDirectives) {
        self.server = server
        self.client = client
        self.directives = directives
    }

    /// The default of tls-protocols: TLSv1.2 and TLSv1.3 (REDIS_TLS_PROTO_DEFAULT).
    static let defaultVersions: ClosedRange<Int> = 2...3
    private static let versions: [TLSVersion] = [.tlsv1, .tlsv11, .tlsv12, .tlsv13]

    /// tls.c's parseProtocolsConfig: words separated by single spaces, case-insensitive. BoringSSL
    /// takes a minimum and a maximum version, so a set with a gap ("TLSv1 TLSv1.2") means the
    /// whole range between them.
    static func protocolRange(_ text: String) throws -> ClosedRange<Int> {
        if text.isEmpty { return defaultVersions }
        var chosen: [Int] = []
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            switch word.lowercased() {
            case "tlsv1": chosen.append(0)
            case "tlsv1.1": chosen.append(1)
            case "tlsv1.2": chosen.append(2)
            case "tlsv1.3": chosen.append(3)
            default:
                throw TLSConfigFailure("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
            }
        }
        guard let low = chosen.min(), let high = chosen.max() else { return defaultVersions }
        return low...high
    }

    /// OpenSSL's names of the TLS 1.3 suites (SSL_CTX_set_ciphersuites).
    static let tls13Suites: Set<String> = [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
    ]

    /// Whether BoringSSL takes `list` as a cipher list (SSL_CTX_set_cipher_list: unknown names are
    /// skipped, a list that selects nothing fails). swift-nio-ssl treats a refused list as a
    /// programming error (a precondition), so it is tried on a scratch context first.
    static func cipherListIsValid(_ list: String) -> Bool {
        guard let ctx = SSL_CTX_new(TLS_method()) else { return false }
        defer { SSL_CTX_free(ctx) }
        let ok = SSL_CTX_set_cipher_list(ctx, list) == 1
        ERR_clear_error()
        return ok
    }

    /// tls.c's tlsConfigure. `requireCA`: Redis's check that a CA is given when client
    /// certificates are asked for or TLS links are made (skipped when only tls-auth-clients
    /// changed, which Redis applies at the next accept without reconfiguring).
    static func make(_ d: TLSDirectives, requireCA: Bool = true) throws -> TLSContexts {
        if d.certFile.isEmpty { throw TLSConfigFailure("No tls-cert-file configured!") }
        if d.keyFile.isEmpty { throw TLSConfigFailure("No tls-key-file configured!") }
        if requireCA && (d.authClients != "no" || d.cluster || d.replication) && d.caCertFile.isEmpty && d.caCertDir.isEmpty {
            throw TLSConfigFailure("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!")
        }
        let range = try protocolRange(d.protocols)
        let (serverChain, serverKey) = try loadIdentity(certFile: d.certFile, keyFile: d.keyFile, pass: d.keyFilePass)
        let trust = try loadTrust(file: d.caCertFile, directory: d.caCertDir)
        if !d.ciphers.isEmpty && !cipherListIsValid(d.ciphers) {
            throw TLSConfigFailure("Failed to configure ciphers: \(d.ciphers)")
        }
        if !d.ciphersuites.isEmpty {
            let names = d.ciphersuites.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard names.allSatisfy(tls13Suites.contains) else {
                throw TLSConfigFailure("Failed to configure ciphersuites: \(d.ciphersuites)")
            }
        }
        try checkDHParams(d.dhParamsFile)

        func common(_ c: inout TLSConfiguration) {
            c.minimumTLSVersion = versions[range.lowerBound]
            c.maximumTLSVersion = versions[range.upperBound]
            if !d.ciphers.isEmpty { c.cipherSuites = d.ciphers }
            c.trustRoots = .certificates(trust)
            c.renegotiationSupport = .none  // SSL_OP_NO_CLIENT_RENEGOTIATION
        }

        var serverConfig = TLSConfiguration.makeServerConfiguration(
            certificateChain: serverChain.map { .certificate($0) }, privateKey: .privateKey(serverKey))
        common(&serverConfig)
        // connCreateAcceptedTLS: no -> SSL_VERIFY_NONE; optional -> SSL_VERIFY_PEER; yes (the
        // context's own) -> SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT. No host names.
        switch d.authClients {
        case "no": serverConfig.certificateVerification = .none
        case "optional": serverConfig.certificateVerification = .optionalVerification
        default: serverConfig.certificateVerification = .noHostnameVerification
        }

        // The client side: its own certificate when both tls-client-* files are set, else the
        // server's. It verifies the peer against the CA, without a host name check (Redis's
        // SSL_VERIFY_PEER on the context).
        var clientConfig = TLSConfiguration.makeClientConfiguration()
        common(&clientConfig)
        clientConfig.certificateVerification = .noHostnameVerification
        if !d.clientCertFile.isEmpty && !d.clientKeyFile.isEmpty {
            let (chain, key) = try loadIdentity(certFile: d.clientCertFile, keyFile: d.clientKeyFile, pass: d.clientKeyFilePass)
            clientConfig.certificateChain = chain.map { .certificate($0) }
            clientConfig.privateKey = .privateKey(key)
        } else {
            clientConfig.certificateChain = serverChain.map { .certificate($0) }
            clientConfig.privateKey = .privateKey(serverKey)
        }

        // SSL_CTX_use_PrivateKey refuses a key that does not match the certificate.
        func reason(_ error: Error) -> String {
            (error as? NIOSSLError) == .failedToLoadPrivateKey ? "key values mismatch" : "\(error)"
        }
        let server: NIOSSLContext, client: NIOSSLContext
        do {
            server = try NIOSSLContext(configuration: serverConfig)
        } catch {
            throw TLSConfigFailure("Failed to load private key: \(d.keyFile): \(reason(error))")
        }
        do {
            client = try NIOSSLContext(configuration: clientConfig)
        } catch {
            let file = !d.clientCertFile.isEmpty && !d.clientKeyFile.isEmpty ? d.clientKeyFile : d.keyFile
            throw TLSConfigFailure("Failed to load private key: \(file): \(reason(error))")
        }
        return TLSContexts(server: server, client: client, directives: d)
    }

    /// SSL_CTX_use_certificate_chain_file and SSL_CTX_use_PrivateKey_file, with the key's
    /// passphrase (tlsPasswordCallback: none configured fails an encrypted key).
    private static func loadIdentity(certFile: String, keyFile: String, pass: String) throws -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let chain: [NIOSSLCertificate]
        do {
            try readable(certFile)
            chain = try NIOSSLCertificate.fromPEMFile(certFile)
            guard !chain.isEmpty else { throw TLSConfigFailure("no certificate in the file") }
        } catch {
            throw TLSConfigFailure("Failed to load certificate: \(certFile): \(describe(error))")
        }
        let passBytes = Array(pass.utf8)
        let key: NIOSSLPrivateKey
        do {
            try readable(keyFile)
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem) { (setter: NIOSSLPassphraseSetter<[UInt8]>) in
                setter(passBytes)
            }
        } catch {
            throw TLSConfigFailure("Failed to load private key: \(keyFile): \(describe(error))")
        }
        return (chain, key)
    }

    /// swift-nio-ssl's loading errors in words.
    private static func describe(_ error: Error) -> String {
        switch error as? NIOSSLError {
        case .failedToLoadCertificate?: return "no PEM certificate could be read"
        case .failedToLoadPrivateKey?: return "no PEM private key could be read (or it is encrypted and tls-key-file-pass is missing or wrong)"
        default: return "\(error)"
        }
    }

    /// SSL_CTX_load_verify_locations: the certificates of tls-ca-cert-file, and those of every
    /// PEM file in tls-ca-cert-dir (OpenSSL looks them up there by their c_rehash names; loading
    /// them all trusts the same set).
    private static func loadTrust(file: String, directory: String) throws -> [NIOSSLCertificate] {
        var certificates: [NIOSSLCertificate] = []
        if !file.isEmpty {
            do {
                try readable(file)
                certificates += try NIOSSLCertificate.fromPEMFile(file)
            } catch {
                throw TLSConfigFailure("Failed to configure CA certificate(s) file/directory: \(file): \(describe(error))")
            }
        }
        if !directory.isEmpty {
            guard let dir = opendir(directory) else {
                throw TLSConfigFailure("Failed to configure CA certificate(s) file/directory: \(directory): \(String(cString: strerror(errno)))")
            }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if !name.hasPrefix(".") { names.append(name) }
            }
            for name in names.sorted() {
                let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                var info = stat()
                guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                if let found = try? NIOSSLCertificate.fromPEMFile(path) { certificates += found }
            }
        }
        return certificates
    }

    /// tls-dh-params-file: Redis loads DH parameters for the DHE suites. BoringSSL has no
    /// finite-field DHE suites, so the file is only checked as Redis reads it.
    private static func checkDHParams(_ path: String) throws {
        guard !path.isEmpty else { return }
        guard let f = fopen(path, "r") else {
            throw TLSConfigFailure("Failed to load \(path): \(String(cString: strerror(errno)))")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > 1 << 20 { break }
        }
        fclose(f)
        guard String(decoding: bytes, as: UTF8.self).contains("-----BEGIN DH PARAMETERS-----") else {
            throw TLSConfigFailure("\(path): failed to read DH params.")
        }
    }

    /// A file that cannot be opened is reported with errno's text, as OpenSSL's error string
    /// would name the system error.
    private static func readable(_ path: String) throws {
        guard access(path, R_OK) == 0 else { throw TLSConfigFailure(String(cString: strerror(errno))) }
    }
}
